"""docs/datahub.md states the release table the code uses: generated from `outcome`, compared."""

from __future__ import annotations

from pathlib import Path

from tongban.datahub import release

DOC = Path(__file__).resolve().parents[2] / "docs" / "datahub.md"


def test_the_documented_release_table_is_the_one_the_code_uses() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = text.split("<!-- release-table -->", 1)[1].split("<!-- /release-table -->", 1)[0].strip()
    assert documented == release.release_table(), "regenerate the table: python -c 'from " \
        "tongban.datahub.release import release_table; print(release_table())'"


def test_the_table_answers_what_the_issue_asks() -> None:
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in release.release_table().splitlines()[2:]}
    assert rows["consent, purpose stated"][2] == "clear"  # consent unmasks L3
    assert rows["grant, purpose stated"][2] == "masked" and rows["grant, purpose stated"][3].startswith("withheld")
    assert all(c.strip(" |") == "withheld" for c in rows["grant, unshared dataset"])
    assert all(c.strip(" |") == "withheld" for c in rows["aggregate"])
