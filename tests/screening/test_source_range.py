"""Issue #18: a screening over views held as Parquet applies the ±10¹⁵ boundary check of
`tongban.policy.views` on every backend, so a value out of range is a clear refusal naming its
column, never a wrong answer (Polars wraps 64-bit overflow silently)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from tongban.policy.analysis import numbers_read
from tongban.policy.views import VALUE_LIMIT, ValueOutOfRange
from tongban.screening.engine import PolicyEngine
from tongban.screening.source import evaluate_wide, parse_source
from tongban_bench import screen_city

DEMO_PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city") / "city"
    screen_city.generate(300, out, seed=7)
    return out


def _with_value(city: Path, tmp: Path, view: str, column: str, value: int) -> Path:
    """A copy of the city whose first `view` row holds `value` in `column`."""
    out = tmp / "edited"
    shutil.copytree(city, out)
    parts = sorted((out / view).glob("*.parquet")) if (out / view).is_dir() else [out / f"{view}.parquet"]
    frame = pl.read_parquet(parts)
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(value, dtype=pl.Int64))
                               .otherwise(pl.col(column).cast(pl.Int64)).alias(column))
    for p in parts:
        p.unlink()
    frame.write_parquet(parts[0])
    return out


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_a_value_beyond_the_range_is_refused_naming_the_column(city: Path, tmp_path: Path, backend: str) -> None:
    import datetime as dt

    policies = PolicyEngine(DEMO_PACK).policy_set
    read = numbers_read(policies)
    column = sorted(read["person"])[0]
    as_of = dt.date(2026, 6, 30)
    source = parse_source(f"parquet:{city}")
    assert source is not None
    evaluate_wide(policies, source, as_of=as_of, backend=backend)  # in range: evaluated
    for value in (VALUE_LIMIT + 1, -(VALUE_LIMIT + 1), 2**62):
        edited = parse_source(f"parquet:{_with_value(city, tmp_path, 'person', column, value)}")
        assert edited is not None
        with pytest.raises(ValueOutOfRange) as refused:
            evaluate_wide(policies, edited, as_of=as_of, backend=backend)
        assert refused.value.field == f"person.{column}" and refused.value.status == 422
        shutil.rmtree(tmp_path / "edited")
    at_limit = parse_source(f"parquet:{_with_value(city, tmp_path, 'person', column, VALUE_LIMIT)}")
    assert at_limit is not None
    evaluate_wide(policies, at_limit, as_of=as_of, backend=backend)  # the limit itself is in range
