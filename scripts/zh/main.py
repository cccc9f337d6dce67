"""zh_CN translations of msgids added on main (replayed by scripts/translate.py after merges)."""

ZH = {
    "Retention must be at least one day.": "保留期至少为一天。",
}
