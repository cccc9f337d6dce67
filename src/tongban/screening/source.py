"""Where a screening run reads the views: the registry (an audited snapshot written per run)
or view snapshots already held as Parquet (`--source parquet:DIR`, e.g. the synthetic city of
`tongban_bench.screen_city` of the benchmarks, or views exported by the big-data bureau).

A Parquet source is a folder with `person`, `household` and optionally `previous`, each a file
`<view>.parquet` or a folder `<view>/*.parquet` of parts, in the view schemas of
`tongban.policy.views` (the household view may add `head_person_id`), and optionally
`source.json`: `{"ids": "registry"}` when the views are an export of this registry (its person
ids are the registry's, so a run may make offers to them). Its snapshot id is the hash of its manifest (every file's path, size and
content hash), so the same files give the same id and any change gives another.

Only the view fields the policies read are read (the others are null columns the plans never
look at); `fields_needed` names them as catalog (dataset, field) pairs for the grant check.
Evaluation returns the *wide* frame, a row per person: id, household_id, region_code and each
policy's `<id>__eligible`, `<id>__criteria`, `<id>__amount` (Polars, DuckDB or Spark).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tongban.core.errors import Invalid
from tongban.core.i18n import N_
from tongban.policy import model as m
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS, VIEWS, View, polars_schema

KEYS = {"person": ("id", "household_id", "region_code"), "household": ("id", "region_code"), "previous": ("id",)}
WIDE_KEYS = ["id", "household_id", "region_code", "household__region_code"]


def view_fields_needed(policies: m.PolicySet) -> dict[str, set[str]]:
    """The fields of each view the policies read, keys and region codes included."""
    out: dict[str, set[str]] = {v: set(k) for v, k in KEYS.items()}
    for p in policies.policies:
        exprs = [c.expr for c in p.criteria] + ([p.amount] if p.amount is not None else [])
        for e in exprs:
            for n in m.walk(e):
                if isinstance(n, m.FieldRef):
                    out["person" if n.scope == "person" else n.scope].add(n.name)
    return out


def fields_needed(policies: m.PolicySet) -> set[tuple[str, str]]:
    """The catalog (dataset, field) pairs behind the view fields the policies read."""
    from tongban.policy.evaluate import fields_needed as registry_fields

    return registry_fields(policies)


# --- a Parquet source -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParquetSource:
    folder: Path
    files: dict[str, list[Path]]  # view → its Parquet files, sorted
    columns: dict[str, frozenset[str]]  # view → the columns its (first) file holds
    registry_ids: bool = False  # `source.json` says the views' ids are this registry's (an export of it)

    @property
    def has_previous(self) -> bool:
        return bool(self.files.get("previous"))

    def check_columns(self, needed: dict[str, set[str]]) -> None:
        """Refuse (naming `source`) when a view lacks a column the policies read; columns no
        policy reads may be absent."""
        for view, paths in self.files.items():
            missing = sorted(needed.get(view, set()) - self.columns.get(view, frozenset())) if paths else []
            if missing:
                raise Invalid(N_("The Parquet view %(view)s lacks the columns %(columns)s"), field="source",
                              view=view, columns=", ".join(missing))


def parse_source(value: str | None) -> ParquetSource | None:
    """`registry` (or nothing) → None; `parquet:DIR` → the source, checked; else `Invalid` on `source`."""
    if value is None or value.strip() in ("", "registry"):
        return None
    kind, _, rest = value.strip().partition(":")
    if kind != "parquet" or not rest.strip():
        raise Invalid(N_("Give the source as registry or parquet:FOLDER"), field="source")
    folder = Path(rest.strip()).expanduser().resolve()
    files: dict[str, list[Path]] = {}
    for view in ("person", "household", "previous"):
        single = folder / f"{view}.parquet"
        parts = sorted((folder / view).glob("*.parquet")) if (folder / view).is_dir() else []
        files[view] = [single] if single.is_file() else parts
    if not files["person"] or not files["household"]:
        raise Invalid(N_("The folder holds no person and household views in Parquet"), field="source")
    columns = {view: frozenset(pl.read_parquet_schema(paths[0])) for view, paths in files.items() if paths}
    source = ParquetSource(folder, files, columns, registry_ids=_registry_ids(folder))
    source.check_columns({v: set(k) for v, k in KEYS.items()})
    return source


def _registry_ids(folder: Path) -> bool:
    """Whether `folder/source.json` says `{"ids": "registry"}`: the views are an export of this
    registry, so their person ids are its persons (offers may be made to them)."""
    marker = folder / "source.json"
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("ids") == "registry"
    except (ValueError, AttributeError):
        raise Invalid(N_("The folder's source.json is not a JSON object"), field="source") from None


def manifest(source: ParquetSource, *, chunk: int = 1 << 20) -> dict[str, Any]:
    """Every file's path (relative to the folder), size and BLAKE2b content hash, and the hash of
    them all: the snapshot id."""
    entries = []
    for view in ("person", "household", "previous"):
        for path in source.files.get(view, []):
            digest = hashlib.blake2b(digest_size=20)
            with path.open("rb") as fh:
                while block := fh.read(chunk):
                    digest.update(block)
            entries.append({"view": view, "path": str(path.relative_to(source.folder)), "bytes": path.stat().st_size,
                            "blake2b": digest.hexdigest()})
    whole = hashlib.blake2b(json.dumps(entries, sort_keys=True).encode(), digest_size=20).hexdigest()
    return {"source": str(source.folder), "files": entries, "snapshot_id": whole}


def scan(source: ParquetSource, view: View, fields: set[str]) -> pl.LazyFrame:
    """A view with only `fields` read; the others null columns of the declared types."""
    schema = polars_schema(view)
    lf = pl.scan_parquet(source.files[view.name])
    return lf.select([pl.col(n).cast(t) if n in fields else pl.lit(None, dtype=t).alias(n) for n, t in schema.items()])


def _wide_columns(policies: m.PolicySet) -> list[str]:
    from tongban.policy.compile_polars import col_amount, col_criteria, col_eligible

    out = list(WIDE_KEYS)
    for p in policies.policies:
        out += [col_eligible(p.id), col_criteria(p.id), col_amount(p.id)]
    return out


def wide_schema(policies: m.PolicySet) -> dict[str, pl.DataType]:
    from tongban.policy.evaluate import wide_schema

    return wide_schema(policies)


def evaluate_lazy(policies: m.PolicySet, source: ParquetSource, *, as_of: dt.date, backend: str,
                  region_prefix: str | None = None) -> pl.LazyFrame:
    """The wide frame of `policies` over the source (see the module docstring), lazily: with
    Polars it is the compiled plan itself, so a caller can sink it to Parquet without ever holding
    the city in memory; DuckDB and Spark have run when it is returned.

    `region_prefix` keeps the rows of the persons whose region starts with it, *after* evaluating
    the whole snapshot: household aggregates and policy references see every member, wherever
    registered (docs/policy.md), as `tongban policy eval --region` does."""
    wide = _evaluate_all(policies, source, as_of=as_of, backend=backend)
    if region_prefix:
        # A region the caller asked for (and was allowed: core.access.scope); the Polars form of `within`.
        wide = wide.filter(pl.col("region_code").cast(pl.String).str.starts_with(region_prefix))
    return wide


def check_ranges(policies: m.PolicySet, files: dict[str, list[Path]], needed: dict[str, set[str]]) -> None:
    """The boundary check of `tongban.policy.views` (`check_snapshot`) on Parquet views, whichever
    backend evaluates them next: an int or money value the policies read beyond ±10¹⁵ is refused
    (`ValueOutOfRange`, naming the column) before any backend computes with it — else Polars
    would wrap silently and a SQL backend abort, and a screening would give a wrong answer or none.
    One streamed pass of min/max over only those columns."""
    from tongban.policy.views import Snapshot, check_snapshot

    def lazy(view: View) -> pl.LazyFrame:
        schema = polars_schema(view)
        wanted = needed.get(view.name, set())
        return pl.scan_parquet(files[view.name]).select(
            [pl.col(n).cast(t) if n in wanted else pl.lit(None, dtype=t).alias(n) for n, t in schema.items()])

    check_snapshot(policies, Snapshot(person=lazy(PERSON), household=lazy(HOUSEHOLD),
                                      previous=lazy(PREVIOUS) if files.get("previous") else None))


def _evaluate_all(policies: m.PolicySet, source: ParquetSource, *, as_of: dt.date, backend: str) -> pl.LazyFrame:
    needed = view_fields_needed(policies)
    source.check_columns(needed)
    if backend not in ("polars", "duckdb", "spark"):
        raise Invalid(N_("This backend is not available here"), field="backend")
    check_ranges(policies, {v: p for v, p in source.files.items() if p}, needed)
    if backend == "polars":
        from tongban.policy.compile_polars import plan
        from tongban.policy.evaluate import bind_previous
        from tongban.policy.views import Snapshot

        snap = Snapshot(person=scan(source, PERSON, needed["person"]),
                        household=scan(source, HOUSEHOLD, needed["household"]),
                        previous=scan(source, PREVIOUS, needed["previous"]) if source.has_previous else None)
        return plan(policies, bind_previous(policies, snap), as_of=as_of).select(_wide_columns(policies))
    if backend == "duckdb":
        return _duckdb_wide(policies, source, needed, as_of=as_of).lazy()
    if backend == "spark":
        return spark_wide(policies, {v: p for v, p in source.files.items() if p}, needed, as_of=as_of).lazy()
    raise Invalid(N_("This backend is not available here"), field="backend")


def evaluate_wide(policies: m.PolicySet, source: ParquetSource, *, as_of: dt.date, backend: str,
                  region_prefix: str | None = None) -> pl.DataFrame:
    """The wide frame of `policies` over the source, collected (small sources only)."""
    return evaluate_lazy(policies, source, as_of=as_of, backend=backend, region_prefix=region_prefix).collect()


def _duckdb_wide(policies: m.PolicySet, source: ParquetSource, needed: dict[str, set[str]], *,
                 as_of: dt.date) -> pl.DataFrame:
    from sqlglot import exp

    from tongban.policy import compile_sql
    from tongban.policy.evaluate import duckdb_frame

    def view_sql(view: View) -> exp.Expression:
        files = exp.Array(expressions=[exp.Literal.string(str(p)) for p in source.files[view.name]])
        cols = [exp.column(n) if n in needed[view.name] else
                exp.Cast(this=exp.Null(), to=exp.DataType.build(compile_sql.SQL_TYPES[f.type])).as_(n)
                for n, f in view.fields.items()]
        q = exp.select(*cols).from_(exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[files])))
        return q.subquery()

    sources = {"person": view_sql(PERSON), "household": view_sql(HOUSEHOLD)}
    if source.has_previous:
        sources["previous"] = view_sql(PREVIOUS)
    sql = compile_sql.to_sql(policies, as_of=as_of, dialect="duckdb", sources=sources, columns=WIDE_KEYS)
    return duckdb_frame(sql).cast(wide_schema(policies))  # type: ignore[arg-type]


SPARK_TYPES = {"int": "bigint", "money": "bigint", "bool": "boolean", "str": "string", "date": "date"}


def spark_session() -> Any:
    """A local Spark session; `Invalid` on `backend` when pyspark (or Java) is missing."""
    import shutil

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise Invalid(N_("The spark backend needs pyspark installed (pip install pyspark) and Java 17"),
                      field="backend") from None
    if shutil.which("java") is None:
        raise Invalid(N_("The spark backend needs pyspark installed (pip install pyspark) and Java 17"),
                      field="backend")
    return (SparkSession.builder.master("local[*]").appName("tongban-screen")
            .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "Asia/Shanghai")
            .getOrCreate())


def spark_wide(policies: m.PolicySet, files: dict[str, list[Path]], needed: dict[str, set[str]], *,
               as_of: dt.date) -> pl.DataFrame:
    """The compiled Spark SQL run by a local Spark over the Parquet views (temporary views with
    only the needed fields); the result comes back through a Parquet file."""
    from pyspark.sql import functions as F  # noqa: N812 - the pyspark convention

    from tongban.policy import compile_sql

    check_ranges(policies, files, needed)  # as every other backend: refused before computing
    spark = spark_session()
    names = {v: f"tb_screen_{v}" for v in files}
    for view_name, paths in files.items():
        view = VIEWS[view_name]
        df = spark.read.parquet(*[str(p) for p in paths])
        cols = [F.col(n).cast(SPARK_TYPES[f.type]).alias(n) if n in needed[view_name]
                else F.lit(None).cast(SPARK_TYPES[f.type]).alias(n) for n, f in view.fields.items()]
        df = df.select(*cols)
        df.createOrReplaceTempView(names[view_name])
    sql = compile_sql.to_sql(policies, as_of=as_of, dialect="spark", columns=WIDE_KEYS,
                             sources=compile_sql.table_sources(names=names, views=tuple(files)))
    with tempfile.TemporaryDirectory(prefix="tongban-spark-") as tmp:
        out = Path(tmp) / "wide"
        spark.sql(sql).write.parquet(str(out))
        parts = sorted(out.glob("*.parquet"))
        frame = (pl.read_parquet(parts) if parts else pl.DataFrame(schema=wide_schema(policies)))
        for name in names.values():
            spark.catalog.dropTempView(name)
        return frame.cast(wide_schema(policies))  # type: ignore[arg-type]
