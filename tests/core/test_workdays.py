"""Working-day schedules per year: a made-up schedule for 2031 (the library knows only 2004–2026)
skips its holidays, counts its adjusted Saturdays and ends the Monday–Friday estimate; bad files
are refused with line and field and store nothing; `tongban calendar load/show`; the pack section;
the one-per-year log line; the one clock."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from tongban.core import clock, workdays
from tongban.core.audit.models import AuditEvent
from tongban.core.packs.loader import PackError, load_pack
from tongban.core.timeutil import WorkCalendar, YearSchedule
from tongban.core.workdays.models import CalendarYear

D = dt.date

SCHEDULE_2031 = """\
year: 2031
sources:
  - {name: made up for tests, notes: not the State Council's schedule}
holidays:
  - {name: {zh: 元旦, en: New Year's Day}, from: 2031-01-01}
  - name: {zh: 春节, en: Spring Festival}
    from: 2031-01-22
    to: 2031-01-28
workdays: [2031-01-18, 2031-02-08]
"""


def write(tmp_path: Path, text: str, name: str = "2031.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def schedule_2031(tmp_path: Path) -> WorkCalendar:
    model = workdays.read_schedule_file(write(tmp_path, SCHEDULE_2031))
    holidays = frozenset(d for h in model.holidays for d in h.days())
    return WorkCalendar(years={2031: YearSchedule(2031, holidays, frozenset(model.workdays))})


def test_without_a_schedule_2031_is_counted_monday_to_friday_and_flagged() -> None:
    cal = WorkCalendar()
    assert not cal.knows_year(2031)
    assert cal.add_working_days(D(2031, 1, 21), 1) == D(2031, 1, 22)  # the Spring Festival eve, counted
    assert cal.add_working_days(D(2031, 1, 17), 1) == D(2031, 1, 20)  # Saturday 18th not counted
    assert cal.estimated(D(2031, 1, 17), D(2031, 1, 20))
    assert cal.unknown_years(D(2026, 12, 20), D(2027, 1, 5)) == [2027]
    assert not cal.estimated(D(2026, 3, 2), D(2026, 3, 9))  # the library's year


def test_a_loaded_year_skips_its_holidays_and_counts_its_adjusted_saturday(tmp_path: Path) -> None:
    cal = schedule_2031(tmp_path)
    assert cal.add_working_days(D(2031, 1, 21), 1) == D(2031, 1, 29)  # 22–28 January off
    assert cal.add_working_days(D(2031, 1, 17), 1) == D(2031, 1, 18)  # Saturday 18th worked (调休)
    assert cal.working_days_between(D(2031, 2, 6), D(2031, 2, 10)) == 3  # Fri 7, Sat 8 (调休), Mon 10
    assert not cal.is_workday(D(2031, 1, 1)) and not cal.is_workday(D(2031, 1, 25))
    assert not cal.estimated(D(2031, 1, 17), D(2031, 1, 18))


def test_a_loaded_year_takes_precedence_over_the_library() -> None:
    # The library has 1 October 2025 as National Day; a loaded 2025 (here: invented) wins.
    assert not WorkCalendar().is_workday(D(2025, 10, 1))
    loaded = WorkCalendar(years={2025: YearSchedule(2025, frozenset({D(2025, 3, 3)}), frozenset())})
    assert loaded.is_workday(D(2025, 10, 1)) and not loaded.is_workday(D(2025, 3, 3))


def test_a_year_without_schedule_is_logged_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="tongban.core.timeutil")
    WorkCalendar().add_working_days(D(2041, 3, 1), 20)
    WorkCalendar().add_working_days(D(2041, 6, 1), 20)
    lines = [r for r in caplog.records if getattr(r, "event", None) == "calendar.degraded"]
    assert [r.year for r in lines] == [2041]  # type: ignore[attr-defined]
    assert "2041" in lines[0].getMessage() and "calendar load" in lines[0].getMessage()


# --- bad files: refused with the line and the field, nothing stored ----------------------------

BAD = [
    ("2031-01-28", "2030-01-28", r"2031\.yaml:8:.*holidays\[1\]\.to: 2030-01-28 is before 'from'"),
    ("to: 2031-01-28", "to: 2032-01-28", r"2031\.yaml:8:.*holidays\[1\]\.to: 2032-01-28 is not in 2031"),
    ("from: 2031-01-01}", "from: 2031-01-25}", r"2031\.yaml:7:.*holidays\[1\] \(Spring Festival.*overlaps holidays\[0\]"),
    ("2031-02-08]", "2031-02-05]", r"2031\.yaml:9:.*workdays\[1\]: 2031-02-05 is a Wednesday, a working day anyway"),
    ("2031-02-08]", "2031-01-25]", r"2031\.yaml:9:.*workdays\[1\]: 2031-01-25 falls in holidays\[1\] \(Spring Festival\)"),
    ("2031-02-08]", "2031-01-18]", r"2031\.yaml:9:.*workdays\[1\]: 2031-01-18 is already listed as workdays\[0\]"),
    ("en: New Year's Day}", "fr: Jour de l'an}", r"2031\.yaml:5:.*unknown key 'fr'"),
    ("year: 2031", "year: 2031\nyear: 2032", r"2031\.yaml:2:.*key 'year' appears twice"),
    ("from: 2031-01-22", "from: 22 January", r"2031\.yaml:7:.*holidays\.1\.from: Input should be a valid date"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD, ids=[
    "to-before-from", "date-outside-year", "overlap", "weekday-as-workday", "workday-in-holiday",
    "duplicate-workday", "unknown-key", "duplicate-key", "not-a-date"])
def test_a_bad_schedule_is_refused_with_line_and_field_and_nothing_stored(
        cli, db, tmp_path: Path, old: str, new: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert old in SCHEDULE_2031
    path = write(tmp_path, SCHEDULE_2031.replace(old, new, 1))
    with pytest.raises(PackError) as caught:
        workdays.read_schedule_file(path)
    assert any(re.search(expected, str(p)) for p in caught.value.problems), str(caught.value)
    result = cli("calendar", "load", str(path))
    assert result.exit_code == 2
    assert "the schedule is refused" in result.output and re.search(expected, result.output.replace("\n  ", " "))
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CalendarYear)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_json_schedule_with_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{"year": 2031,\n "holidays": [\n  {"name": {"zh": "元旦" "en": "x"}}]}', "2031.json")
    with pytest.raises(PackError) as caught:
        workdays.read_schedule_file(path)
    assert str(caught.value).startswith("2031.json:3:") and "JSON syntax error" in str(caught.value)


# --- the command and the database ---------------------------------------------------------------


def test_calendar_load_stores_audits_and_show_prints_the_year(cli, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, SCHEDULE_2031)
    result = cli("calendar", "load", str(path))
    assert result.exit_code == 0, result.output
    assert "calendar 2031: created — 2 holiday(s), 8 day(s) off, 2 adjusted workday(s)" in result.output
    assert "unchanged" in cli("calendar", "load", str(path)).output  # the same file again: nothing new
    with db.unit_of_work() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "calendar.load")).all()
        assert [(e.subject, e.actor) for e in events] == [("calendar:2031", "system:cli")]
        assert workdays.calendar(s).add_working_days(D(2031, 1, 17), 1) == D(2031, 1, 18)
    shown = cli("calendar", "show", "2031").output
    assert "Spring Festival" in shown and "春节" in shown and "2031-01-22 Wed" in shown
    assert "2031-01-18 Sat, 2031-02-08 Sat" in shown and "file:2031.yaml" in shown
    assert "estimated Monday to Friday" in cli("calendar", "show", "2027").output
    assert "chinese-calendar library" in cli("calendar", "show", "2025").output


def test_a_corrected_schedule_replaces_the_year_and_the_calendar_sees_it_at_once(cli, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("calendar", "load", str(write(tmp_path, SCHEDULE_2031))).exit_code == 0
    with db.unit_of_work() as s:
        assert workdays.calendar(s).is_workday(D(2031, 2, 8))
    fixed = write(tmp_path, SCHEDULE_2031.replace(", 2031-02-08]", "]"), "2031-fixed.json")
    fixed.write_text(json.dumps(yaml.safe_load(fixed.read_text()), default=str))  # the same, as JSON
    result = cli("calendar", "load", str(fixed))
    assert "calendar 2031: updated" in result.output, result.output
    with db.unit_of_work() as s:
        assert not workdays.calendar(s).is_workday(D(2031, 2, 8))
        first, second = (json.loads(e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == "calendar.load").order_by(AuditEvent.id)))
        assert first["previous_digest"] is None and second["previous_digest"] == first["digest"]
        assert second["digest"] == s.get_one(CalendarYear, 2031).digest != first["digest"]


def test_a_pack_calendar_section_loads_the_year(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pack.yaml").write_text("id: test.cal\nschema_version: 1\nversion: 1\n"
                                        "title: {zh: 测试, en: Test}\n", encoding="utf-8")
    (tmp_path / "calendar").mkdir()
    write(tmp_path / "calendar", SCHEDULE_2031)
    with db.unit_of_work() as s:
        report = load_pack(s, tmp_path)
        assert report.sections["calendar"].created == 1
        row = s.get_one(CalendarYear, 2031)
        assert row.source == "pack:test.cal@1:calendar/2031.yaml" and row.workdays == ["2031-01-18", "2031-02-08"]


def test_a_pack_with_a_bad_calendar_is_refused_whole(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pack.yaml").write_text("id: test.cal\nschema_version: 1\nversion: 1\n"
                                        "title: {zh: 测试, en: Test}\n", encoding="utf-8")
    (tmp_path / "calendar").mkdir()
    write(tmp_path / "calendar", SCHEDULE_2031.replace("2031-02-08]", "2031-02-05]"))
    with db.unit_of_work() as s, pytest.raises(PackError) as caught:
        load_pack(s, tmp_path)
    assert re.search(r"calendar/2031\.yaml:9:.*\[2031\] workdays\[1\]: 2031-02-05 is a Wednesday", str(caught.value))
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CalendarYear)) == 0


# --- the one clock ------------------------------------------------------------------------------


def test_the_clock_can_be_held_and_moved() -> None:
    with clock.frozen(D(2031, 1, 17)) as held:
        assert clock.now() == dt.datetime(2031, 1, 17, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
        assert clock.today() == D(2031, 1, 17)
        held.advance(dt.timedelta(hours=14))  # midnight passed in Shanghai, not yet in UTC
        assert clock.today() == D(2031, 1, 18) and clock.now().date() == D(2031, 1, 17)
        with pytest.raises(ValueError):
            held.set(dt.datetime(2031, 1, 17, 10, 0))  # naive: which zone?
    assert abs((clock.now() - dt.datetime.now(dt.UTC)).total_seconds()) < 5  # released


SRC = Path(__file__).resolve().parents[2] / "src" / "tongban"
WALL_CLOCK = re.compile(r"datetime\.now\(|date\.today\(|datetime\.utcnow\(|ZoneInfo\(|time\.time\(\)")


def test_no_module_reads_the_wall_clock_but_the_clock() -> None:
    readers = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                     if WALL_CLOCK.search(p.read_text(encoding="utf-8")))
    # core/throttle.py compares with the `limits` library's reset times, which are wall-clock epoch
    # seconds: a frozen clock there would turn Retry-After wrong, so it reads time.time() on purpose.
    assert readers == ["core/clock.py", "core/throttle.py"]


def test_a_pack_with_the_same_year_twice_is_refused(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pack.yaml").write_text("id: test.cal\nschema_version: 1\nversion: 1\n"
                                        "title: {zh: 测试, en: Test}\n", encoding="utf-8")
    (tmp_path / "calendar").mkdir()
    write(tmp_path / "calendar", SCHEDULE_2031)
    write(tmp_path / "calendar", SCHEDULE_2031, "2031-again.yaml")
    with db.unit_of_work() as s, pytest.raises(PackError) as caught:
        load_pack(s, tmp_path)
    assert "duplicate calendar-year id 2031 (first defined in calendar/2031-again.yaml:1)" in str(caught.value)
