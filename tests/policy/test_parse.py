"""Loading policies: errors are refused with file, line, policy and criterion; the semantics
helpers (rounding, age, parameters in force) behave as documented."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tongban.core.packs.loader import PackError, read_pack
from tongban.policy import model as m
from tongban.policy.parse import read_policies, read_policy_files
from tongban.policy.reference import age_at, div_half_away

HEADER = """\
parameters:
  - id: standard
    type: money
    description: {zh: 标准, en: Standard}
    values:
      - {region: "3302", from: 2025-01-01, value: 1195}
policies:
"""


def _policy(pid: str, expr: str, *, unit: str = "person") -> str:
    return (f"  - id: {pid}\n"
            "    title: {zh: 测试, en: Test}\n"
            "    domain: test\n"
            "    department: dept.haishu.mca\n"
            "    legal_basis: 测试依据\n"
            f"    unit: {unit}\n"
            "    views: [person, household]\n"
            "    criteria:\n"
            "      - id: first\n"
            "        description: {zh: 第一, en: First}\n"
            "        expr: alive\n"
            "      - id: second\n"
            "        description: {zh: 第二, en: Second}\n"
            f"        expr: {expr}\n")


def _load(tmp_path: Path, body: str) -> PackError:
    f = tmp_path / "p.yaml"
    f.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(PackError) as info:
        read_policy_files([f], base=tmp_path)
    return info.value


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("expr", "message"), [
    ("income_monthly < 1195", "cannot compare a money amount with a number"),
    ("household.no_such_field > 0", "the household view has no field 'no_such_field'"),
    ("income_monthly <", "syntax error"),
    ("__import__('os').system('true')", "unknown function"),
    ("param.nope > fen(0)", "unknown parameter 'nope'"),
    ("policy.nope", "unknown policy 'nope'"),
    ("sex < 'M'", "cannot be ordered"),
    ("income_monthly < yuan(1.001)", "not a whole number of fen"),
    ("age_at(birth_date) + 1", "true/false condition"),
    ("household.any(household.count() > 1)", "cannot be used inside another"),
])
def test_a_bad_criterion_is_refused_with_file_line_policy_and_criterion(tmp_path: Path, expr: str,
                                                                       message: str) -> None:
    body = _policy("ok", "alive") + _policy("bad", f'"{expr}"')
    err = _load(tmp_path, body)
    assert len(err.problems) == 1
    problem = err.problems[0]
    assert problem.file == "p.yaml"
    assert problem.id == "bad#second"
    assert problem.line == _line_of(HEADER + body, expr)
    assert message in problem.message


def test_a_person_field_in_a_household_policy_is_refused(tmp_path: Path) -> None:
    err = _load(tmp_path, _policy("hh", "household.vehicles == 0", unit="household").replace(
        "expr: alive", "expr: person.income_monthly > fen(0)"))
    assert [(p.id, p.message.split(":")[0]) for p in err.problems] == [
        ("hh#first", "person field 'income_monthly' in a household policy")]


def test_policies_referring_to_each_other_in_a_cycle_are_refused(tmp_path: Path) -> None:
    err = _load(tmp_path, _policy("a", "not policy.b") + _policy("b", "policy.c") + _policy("c", "policy.a"))
    assert len(err.problems) == 1
    assert "cycle" in err.problems[0].message and "a → b → c → a" in err.problems[0].message


def test_a_person_policy_inside_a_household_policy_needs_an_aggregate(tmp_path: Path) -> None:
    body = _policy("p", "alive") + _policy("h", "policy.p", unit="household").replace("expr: alive", "expr: true")
    err = _load(tmp_path, body)
    assert err.problems[0].id == "h#second" and "household.any(policy.p)" in err.problems[0].message
    f = tmp_path / "ok.yaml"
    f.write_text(HEADER + body.replace('policy.p\n', 'household.any(policy.p)\n'), encoding="utf-8")
    assert [p.id for p in read_policy_files([f]).policies] == ["p", "h"]


def test_a_missing_key_is_refused_with_its_line(tmp_path: Path) -> None:
    err = _load(tmp_path, _policy("x", "alive").replace("    legal_basis: 测试依据\n", ""))
    assert any("legal_basis" in p.message and p.line is not None for p in err.problems)


def _demo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree("packs/demo", root)
    return root


def test_the_demo_pack_loads_with_its_policies() -> None:
    policies = read_policies("packs/demo")
    assert len(policies.policies) >= 10
    # dependency order: a policy comes after those it refers to
    seen: set[str] = set()
    for p in policies.policies:
        assert p.policy_refs <= seen
        seen.add(p.id)


def test_apply_via_must_name_an_item_or_one_thing_of_the_pack(tmp_path: Path) -> None:
    root = _demo_copy(tmp_path)
    f = root / "policies" / "assistance.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("apply_via: item.medical-assistance",
                                                       "apply_via: item.no-such-item"), encoding="utf-8")
    with pytest.raises(PackError) as info:
        read_pack(root)
    [problem] = info.value.problems
    assert problem.file == "policies/assistance.yaml" and problem.id == "medical_aid"
    assert "item.no-such-item" in problem.message and problem.line is not None


def test_a_broken_policy_refuses_the_pack_in_tongban_policy_check(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tongban.cli import app

    root = _demo_copy(tmp_path)
    f = root / "policies" / "care.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("expr: disability_grade <= 2",
                                                       "expr: disability_grade <= yuan(2)"), encoding="utf-8")
    result = CliRunner().invoke(app, ["policy", "check", str(root)])
    assert result.exit_code == 2
    assert "policies/care.yaml:" in result.output and "[disability_care#severe]" in result.output
    ok = CliRunner().invoke(app, ["policy", "check", "packs/demo"])
    assert ok.exit_code == 0 and "10 policies" in ok.output


# --- semantics helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "q"), [(5, 2, 3), (-5, 2, -3), (5, -2, -3), (4, 3, 1), (7, 2, 4),
                                           (1, 3, 0), (2, 3, 1), (-1, 2, -1), (0, 5, 0), (5, 0, None)])
def test_division_rounds_half_away_from_zero(a: int, b: int, q: int | None) -> None:
    assert div_half_away(a, b) == q


@pytest.mark.parametrize(("at", "age"), [
    (dt.date(2027, 2, 28), 78), (dt.date(2027, 3, 1), 79),  # a common year: the birthday is 1 March
    (dt.date(2028, 2, 28), 79), (dt.date(2028, 2, 29), 80)])
def test_age_of_someone_born_on_29_february(at: dt.date, age: int) -> None:
    assert age_at(dt.date(1948, 2, 29), at) == age


def test_the_parameter_in_force_is_the_longest_region_prefix_then_the_latest_start() -> None:
    p = m.Parameter(id="s", type="money", description=m.Text(zh="s", en="s"), values=(
        m.ParamValue(region="", start=dt.date(2025, 1, 1), value=1),
        m.ParamValue(region="3302", start=dt.date(2025, 1, 1), value=2),
        m.ParamValue(region="330203", start=dt.date(2026, 7, 1), value=3),
        m.ParamValue(region="3302", start=dt.date(2026, 1, 1), value=4)))
    assert p.value_at("330203001001", dt.date(2026, 6, 30)) == 4
    assert p.value_at("330203001001", dt.date(2026, 7, 1)) == 3
    assert p.value_at("330205001001", dt.date(2025, 6, 1)) == 2
    assert p.value_at("110101", dt.date(2026, 7, 1)) == 1
    assert p.value_at("110101", dt.date(2024, 12, 31)) is None


def test_policy_eval_and_explain_on_a_parquet_snapshot(tmp_path: Path) -> None:
    import polars as pl
    from typer.testing import CliRunner

    from tests.policy import backends
    from tests.policy.test_demo_policies import CASES, _population
    from tongban.cli import app

    persons, households, previous, _ = _population(CASES)
    backends.snapshot(persons, households, previous).write_parquet(tmp_path / "views")
    out = tmp_path / "out.parquet"
    runner = CliRunner()
    r = runner.invoke(app, ["policy", "eval", "--as-of", "2026-06-30", "--region", "330203",
                            "--views", str(tmp_path / "views"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    result = pl.read_parquet(out)
    assert set(result["policy"]) == {p.id for p in DEMO_POLICIES.policies}
    assert result.filter(pl.col("policy") == "dibao", pl.col("subject_id") == 1).row(0, named=True)[
        "amount_fen"] == 1  # the first case: one fen under the standard
    r = runner.invoke(app, ["policy", "explain", "1", "dibao", "--as-of", "2026-06-30",
                            "--views", str(tmp_path / "views"), "--lang", "en"])
    assert r.exit_code == 0, r.output
    assert "Eligible" in r.output and "1,194.99 yuan" in r.output and "1,195.00 yuan" in r.output
    r = runner.invoke(app, ["policy", "eval", "--as-of", "2026-13-01", "--views", str(tmp_path / "views")])
    assert r.exit_code == 2 and "as_of" in r.output
    r = runner.invoke(app, ["policy", "eval", "--as-of", "2026-06-30", "--region", "33x",
                            "--views", str(tmp_path / "views")])
    assert r.exit_code == 2 and "region" in r.output


DEMO_POLICIES = read_policies("packs/demo")


# --- loads that used to be silent ------------------------------------------------------------


def test_an_error_inside_a_multi_line_expression_points_at_its_own_line_and_column(tmp_path: Path) -> None:
    block = ("  - id: m\n    title: {zh: 测试, en: Test}\n    domain: test\n    department: dept.haishu.mca\n"
             "    legal_basis: 测试依据\n    unit: person\n    views: [person, household]\n    criteria:\n"
             "      - id: plain\n        description: {zh: 一, en: One}\n"
             "        expr: alive and\n          income_monthly > fen(0) and\n          sex < 'M'\n"
             "    amount: |\n      max(\n        param.standard,\n        param.nope\n      )\n")
    text = HEADER + block
    err = _load(tmp_path, block)
    by_id = {p.id: p for p in err.problems}
    folded = by_id["m#plain"]  # a plain scalar: YAML folds its lines into one
    assert "cannot be ordered" in folded.message
    assert (folded.line, folded.column) == (_line_of(text, "sex < 'M'"), text.splitlines()[
        _line_of(text, "sex < 'M'") - 1].index("sex") + 1)
    literal = by_id["m#amount"]  # a `|` block keeps its lines
    assert "unknown parameter 'nope'" in literal.message
    assert (literal.line, literal.column) == (_line_of(text, "param.nope"), 9)


def test_a_bare_number_as_an_amount_or_a_criterion_gets_a_clear_message(tmp_path: Path) -> None:
    body = _policy("a", "alive").replace("        expr: alive\n", "        expr: 5\n", 1) + "    amount: 5\n"
    err = _load(tmp_path, body)
    messages = " | ".join(p.message for p in err.problems)
    assert "valid string" not in messages
    assert "policies.0.amount" in messages and "yuan(5) or fen(5)" in messages
    assert "policies.0.criteria.0.expr" in messages
    assert all(p.line is not None for p in err.problems)


def test_a_policy_or_parameter_id_twice_among_loose_files_is_refused_as_in_a_pack(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEADER + _policy("same", "alive"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HEADER + _policy("same", "alive"), encoding="utf-8")
    with pytest.raises(PackError) as info:
        read_policies(tmp_path)
    found = sorted((p.file, p.id, p.message.split(" (")[0]) for p in info.value.problems)
    assert found == [("b.yaml", "same", "duplicate policy id 'same'"),
                     ("b.yaml", "standard", "duplicate policy_parameter id 'standard'")]
    assert all("first defined in a.yaml:" in p.message for p in info.value.problems)


def test_a_parameter_without_a_value_for_everywhere_loads_with_a_warning(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "p.yaml").write_text(HEADER + _policy("x", "income_monthly < param.standard"), encoding="utf-8")
    with caplog.at_level("WARNING"):
        policies = read_policies(tmp_path)
    assert len(policies.warnings) == 1 and "p.yaml:" in policies.warnings[0]
    assert "[standard] no value for everywhere (`*`): a subject outside 3302" in policies.warnings[0]
    assert policies.warnings[0] in caplog.text
    later = HEADER.replace('      - {region: "3302", from: 2025-01-01, value: 1195}\n',
                           '      - {region: "3302", from: 2025-01-01, value: 1195}\n'
                           '      - {region: "*", from: 2026-01-01, value: 1000}\n')
    (tmp_path / "p.yaml").write_text(later + _policy("x", "income_monthly < param.standard"), encoding="utf-8")
    assert ["no value for everywhere (`*`) before 2026-01-01" in w for w in read_policies(tmp_path).warnings] == [True]
    covered = later.replace("from: 2026-01-01", "from: 2024-01-01")
    (tmp_path / "p.yaml").write_text(covered + _policy("x", "income_monthly < param.standard"), encoding="utf-8")
    assert read_policies(tmp_path).warnings == ()


def test_policy_check_prints_the_warnings(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tongban.policy.cli import app

    (tmp_path / "p.yaml").write_text(HEADER + _policy("x", "alive"), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0
    assert "warning: p.yaml:" in result.output and "1 warning(s)" in result.output
