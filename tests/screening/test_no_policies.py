"""`tongban screen` run from a folder without the pack (the default TONGBAN_PACK_DIR is relative)
used to evaluate zero policies and report an empty, successful run. It is refused, naming the
folder it looked in, and exits non-zero; the API answers a problem naming `policy`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.screening.test_screen10m import demo  # noqa: F401 - the fixture
from tongban.screening.engine import set_engine
from tongban.screening.models import ScreeningRun


def test_screen_from_a_folder_without_the_pack_fails_clearly(cli, db, demo, tmp_path: Path,  # noqa: F811
                                                             monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.delenv("TONGBAN_PACK_DIR", raising=False)
    monkeypatch.chdir(elsewhere)
    set_engine(None)  # the engine of the configured pack folder, as the command has it
    with db.unit_of_work() as s:
        before = s.scalar(select(func.count()).select_from(ScreeningRun))
    out = cli("screen", "--department", "dept.haishu.mca", "--region", "330203")
    assert out.exit_code != 0, out.output
    said = out.output.replace("\n", "")  # in the CLI's language (zh-CN by default); the folder and the setting named
    assert str(elsewhere / "packs" / "demo") in said and "TONGBAN_PACK_DIR" in said and "policy" in said
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(ScreeningRun)) == before  # nothing half-written


def test_an_empty_pack_folder_is_a_problem_naming_policy(db, demo, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from tongban.core.errors import Conflict
    from tongban.screening import runs
    from tongban.screening.engine import PolicyEngine
    from tongban.screening.jobs import scheduler_principal

    set_engine(PolicyEngine(tmp_path / "empty"))
    with db.unit_of_work() as s:
        principal = scheduler_principal(s, "dept.haishu.mca", None, client_id="test")
        with pytest.raises(Conflict) as refused:
            runs.screen(s, principal=principal, var_dir=settings.var_dir, req=runs.RunRequest())
    assert refused.value.field == "policy" and refused.value.params["folder"] == str((tmp_path / "empty").resolve())
