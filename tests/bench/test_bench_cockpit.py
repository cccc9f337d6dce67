"""`tongban bench cockpit --quick` runs end to end — a small city written as Parquet, loaded,
refreshed, every screen timed through the app beside the live tables — and its exit code holds
the limits: a p95 limit no screen can meet, or figures required fresher than they are, exit 1."""

from __future__ import annotations

import json


def test_quick_cockpit_bench_times_the_screens_beside_the_live_tables(cli, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "figures.json"
    r = cli("bench", "cockpit", "--quick", "--database", db.url, "--folder", str(tmp_path / "cache"),
            "--city-tables", "person,incomes")
    assert r.exit_code == 2 and "incomes" in r.output and not (tmp_path / "cache").exists(), r.output
    r = cli("bench", "cockpit", "--quick", "--database", db.url, "--folder", str(tmp_path / "cache"),
            "--json", str(out), "--city-tables", "household_member")
    assert r.exit_code == 0, r.output
    for text in ("2,000 persons × 30 days", "first screen", "→ street", "→ community", "/cockpit page",
                 "peak memory during the screens", "met", "household_member only"):
        assert text in r.output, text
    figures = json.loads(out.read_text("utf-8"))
    assert figures["indicator"] == "services.applications" and figures["times"]["first"][1] > 0
    assert figures["regions"]["street"] > 0 and figures["regions"]["community"] > 0
    assert all(v["same"] for v in figures["live"].values()), figures["live"]
    assert figures["live"]["first"]["ours"] == figures["live"]["first"]["live"]
    assert figures["manifest"]["tables"]["svc_application"] > 0 and figures["age_s"] < 300
    assert figures["city_tables"] == ["address", "household", "person", "household_member"]
    # the same city again, kept (--reuse): no generating, no loading; a limit too small exits 1
    r = cli("bench", "cockpit", "--quick", "--database", db.url, "--folder", str(tmp_path / "cache"), "--reuse",
            "--limit", "0")
    assert r.exit_code == 1, r.output
    assert "MISSED" in r.output and "load city" not in r.output and "generate" not in r.output
    # figures required fresher than a refresh can make them: exit 1
    r = cli("bench", "cockpit", "--quick", "--database", db.url, "--folder", str(tmp_path / "cache"), "--reuse",
            "--max-age", "0")
    assert r.exit_code == 1 and "MISSED" in r.output, r.output
