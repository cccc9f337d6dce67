"""Policy tree → Polars lazy expressions: the embedded default backend.

The policy set becomes one lazy plan over two frames:

- the **household frame**, one row per household that has members: every household aggregate
  the policies use (`household.sum(…)`, `household.count()`, …), each distinct one computed once,
  in one `group_by("household_id")` over the person rows, joined with the household view; the
  household policies are evaluated here, on household rows;
- the **person frame**, one row per person: the person view, the previous snapshot's fields
  (bound on the same row when the person frame carries them as `previous__<field>`, else joined by
  person id, and only when a policy reads them), and the household frame joined once by
  `household_id` (`household__<field>`, the aggregates, the household policies' outcomes). The
  person policies are evaluated here.

Each policy adds `<id>__eligible`, `<id>__criteria` and `<id>__amount`. Policies at the same
dependency depth are evaluated in the same `with_columns`, parameters are looked up once per
frame into a column (by region prefix, for the as-of date; a region column of dtype `Enum` is
looked up by its category index, without touching strings), and a policy reads an earlier one's
outcome as a column. When an aggregate reads another policy's outcome, the frames are built in
rounds: aggregates whose inputs exist, then the household policies they allow, then the person
policies, and again. See docs/policy.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

import polars as pl

from tongban.policy import model as m
from tongban.policy.analysis import (
    HID,
    AgeBranches,
    Analysis,
    age_cutoffs,
    agg_key,
    col_amount,
    col_criteria,
    col_eligible,
    depths,
    regional_params,
)
from tongban.policy.views import HOUSEHOLD, POLARS_TYPES, PREVIOUS, Snapshot, polars_schema

__all__ = ["col_amount", "col_criteria", "col_eligible", "household_plan", "outcomes", "plan", "results", "totals"]


def _is_categorical(dtype: pl.DataType | None) -> bool:
    return isinstance(dtype, pl.Enum | pl.Categorical)

class _Compiler:
    """Expressions of one policy over a frame whose columns are named as in `plan`'s output:
    person fields as is, `household__<f>`, `previous__<f>`, aggregates and parameter columns
    by the names the plan gives them, other policies' outcomes as `<id>__eligible`."""

    def __init__(self, policies: m.PolicySet, policy: m.Policy, as_of: dt.date, *,
                 aggs: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
                 schema: Mapping[str, pl.DataType] | None = None) -> None:
        self.policies = policies
        self.policy = policy
        self.as_of = as_of
        self.region_name = "region_code" if policy.unit == "person" else "household__region_code"
        self.region = pl.col(self.region_name)
        self.aggs = aggs or {}  # aggregate key → column
        self.params = params or {}  # parameter id → column
        self.schema = schema or {}

    def expr(self, e: m.Expr) -> pl.Expr:  # noqa: C901 - one case per node kind
        c = self.expr
        match e:
            case m.Lit():
                return pl.lit(e.value, dtype=POLARS_TYPES[e.type])
            case m.AsOf():
                return pl.lit(self.as_of, dtype=pl.Date)
            case m.FieldRef():
                name = e.name if e.scope == "person" else f"{e.scope}__{e.name}"
                col = pl.col(name)
                if e.type == "str" and _is_categorical(self.schema.get(name)):
                    return col.cast(pl.String)  # compare as text, as in every other backend
                if e.type in ("int", "money") and self.schema.get(name) not in (None, pl.Int64):
                    return col.cast(pl.Int64)  # a narrow column computes in 64 bits, as declared
                return col
            case m.ParamRef():
                if e.name in self.params:
                    return pl.col(self.params[e.name])
                return self.param(e.name, self.region, self.schema.get(self.region_name))
            case m.Compare():
                folded = self.age_compare(e) if e.op not in ("eq", "ne") else self.enum_compare(e)
                if folded is not None:
                    return folded
                a, b = c(e.left), c(e.right)
                return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b, "eq": a == b, "ne": a != b}[e.op]
            case m.Arith():
                a, b = c(e.left), c(e.right)
                if e.op == "add":
                    return a + b
                if e.op == "sub":
                    return a - b
                if e.op == "mul":
                    return a * b
                q = (a.abs() * 2 + b.abs()) // (b.abs() * 2)
                return pl.when(b != 0).then(pl.when((a >= 0) == (b > 0)).then(q).otherwise(-q)).otherwise(None)
            case m.In():
                enum = self.enum_field(e.operand)  # an Enum field is matched by category
                a = c(e.operand) if enum is None else enum
                found = a.is_in(pl.Series([x.value for x in e.values], dtype=POLARS_TYPES[e.operand.type]).implode())
                if not any(isinstance(n, (m.FieldRef, m.ParamRef, m.PolicyRef, m.HouseholdAgg))
                           for n in m.walk(e.operand)):
                    found = found.first()  # a constant's membership is one value, broadcast like a literal
                return ~found if e.negate else found
            case m.And():
                return pl.all_horizontal([c(i) for i in e.items])
            case m.Or():
                return pl.any_horizontal([c(i) for i in e.items])
            case m.Not():
                return ~c(e.item)
            case m.AgeAt():
                b, at = c(e.birth), c(e.at)
                md = lambda d: d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)  # noqa: E731
                if isinstance(e.at, m.AsOf):  # the usual case: compare with constants, not a column
                    before = md(b) > (self.as_of.month * 100 + self.as_of.day)
                    return pl.lit(self.as_of.year, pl.Int64) - b.dt.year().cast(pl.Int64) - before.cast(pl.Int64)
                before = md(at) < md(b)
                return (at.dt.year().cast(pl.Int64) - b.dt.year().cast(pl.Int64) - before.cast(pl.Int64))
            case m.DateDiff():
                return (c(e.end) - c(e.start)).dt.total_days().cast(pl.Int64)
            case m.AddDays():
                return (c(e.date) + pl.duration(days=c(e.days))).cast(pl.Date)
            case m.Call():
                args = [c(a) for a in e.args]
                if e.name == "is_null":
                    return args[0].is_null()
                if e.name == "coalesce":
                    return pl.coalesce(args)
                any_null = pl.any_horizontal([a.is_null() for a in args])
                fn = pl.min_horizontal if e.name == "min" else pl.max_horizontal
                return pl.when(any_null).then(None).otherwise(fn(args))
            case m.Cond():
                return pl.when(c(e.test)).then(c(e.then)).otherwise(c(e.otherwise))
            case m.PolicyRef():
                return pl.col(col_eligible(e.policy))
            case m.HouseholdAgg():
                return pl.col(self.aggs[agg_key(self.policy, e)])
        raise TypeError(f"unknown node {e!r}")

    def enum_field(self, e: m.Expr) -> pl.Expr | None:
        """A str field held as an Enum, as is (for == / != / in against text literals)."""
        if isinstance(e, m.FieldRef) and e.type == "str":
            name = e.name if e.scope == "person" else f"{e.scope}__{e.name}"
            if isinstance(self.schema.get(name), pl.Enum):
                return pl.col(name)
        return None

    def enum_compare(self, e: m.Compare) -> pl.Expr | None:
        """`field == "text"` on an Enum field: compared by category, not as strings."""
        left, right = (e.left, e.right) if isinstance(e.right, m.Lit) else (e.right, e.left)
        col = self.enum_field(left)
        if col is None or not isinstance(right, m.Lit) or not isinstance(right.value, str):
            return None
        name = left.name if left.scope == "person" else f"{left.scope}__{left.name}"  # type: ignore[union-attr]
        dtype = self.schema[name]
        assert isinstance(dtype, pl.Enum)
        if right.value not in dtype.categories.to_list():  # no row can hold it
            return pl.when(col.is_null()).then(None).otherwise(pl.lit(e.op == "ne"))
        return col == right.value if e.op == "eq" else col != right.value

    def age_compare(self, e: m.Compare) -> pl.Expr | None:
        """`age_at(birth) <op> N` on the as-of date as comparisons of the birth date with cutoff
        dates (`age_cutoffs`). None when the comparison is not of that form."""
        cut = age_cutoffs(e, self.policies, self.as_of)
        if cut is None:
            return None
        if isinstance(cut, AgeBranches):
            then, other = self.age_compare(cut.then), self.age_compare(cut.otherwise)
            if then is None or other is None:
                return None
            return pl.when(self.expr(cut.test)).then(then).otherwise(other)
        birth = self.expr(cut.birth)
        born_by = [birth <= pl.lit(d, dtype=pl.Date) for d in cut.born_by]
        out = born_by[0] if len(born_by) == 1 else born_by[0] & ~born_by[1]
        return ~out if cut.negate else out

    def aggregate(self, e: m.HouseholdAgg) -> pl.Expr:
        """The aggregate as a `group_by("household_id").agg(…)` expression over the member rows."""
        if e.arg is None:
            return pl.len().cast(pl.Int64)
        a = self.expr(e.arg)
        if not any(isinstance(n, m.FieldRef | m.ParamRef | m.PolicyRef) for n in m.walk(e.arg)):
            # the same value for every member (of whom there is at least one)
            n = pl.len().cast(pl.Int64)
            if e.op == "sum":
                return (a.first() * n).cast(pl.Int64)
            if e.op == "count":
                return pl.when(a.first().fill_null(False)).then(n).otherwise(0)
            return a.first().fill_null(False)
        if e.op == "sum":  # null if any member's value is null
            return pl.when(a.null_count() > 0).then(None).otherwise(a.sum().cast(pl.Int64))
        if e.op == "count":
            return a.fill_null(False).cast(pl.Int64).sum()
        if e.op == "any":
            return a.fill_null(False).any()
        return a.fill_null(False).all()

    def param(self, name: str, region: pl.Expr, region_dtype: pl.DataType | None) -> pl.Expr:
        """Longest-prefix lookup of a region in the parameter's values in force on the as-of date."""
        param = self.policies.parameters[name]
        table = param.table_at(self.as_of)
        dtype = POLARS_TYPES[param.type]
        if not table:
            return pl.lit(None, dtype=dtype)
        everywhere = pl.lit(table.get(""), dtype=dtype)  # what an unknown region gets
        if set(table) == {""}:  # one value everywhere: a literal, not a lookup per row or per category
            return everywhere
        if isinstance(region_dtype, pl.Enum):  # the value of each category, picked by its index
            values = [_longest_prefix(table, cat) for cat in region_dtype.categories.to_list()]
            looked_up = pl.lit(pl.Series(values, dtype=dtype)).gather(region.to_physical())
            return looked_up if "" not in table else pl.when(region.is_null()).then(everywhere).otherwise(looked_up)
        if _is_categorical(region_dtype):
            region = region.cast(pl.String)
        by_len: dict[int, dict[str, object]] = defaultdict(dict)
        for prefix, value in table.items():
            by_len[len(prefix)][prefix] = value
        parts: list[pl.Expr] = []
        for n in sorted(by_len, reverse=True):
            if n == 0:
                parts.append(pl.lit(by_len[0][""], dtype=dtype))
                continue
            mapping = by_len[n]
            parts.append(region.str.slice(0, n).replace_strict(
                list(mapping), list(mapping.values()), default=None, return_dtype=dtype))
        # an unknown (null) region matches no prefix: it gets the value everywhere, if there is one
        return parts[0] if len(parts) == 1 else pl.coalesce(parts)


def _longest_prefix(table: Mapping[str, object], region: str) -> object:
    """The region's own prefixes, longest first, looked up in the table: a few dictionary
    lookups per category, not a scan of every value (100 × 100 `startswith` for the bench's
    per-district parameter)."""
    return next((table[region[:n]] for n in range(len(region), -1, -1) if region[:n] in table), None)


def _frame_schema(lf: pl.LazyFrame) -> dict[str, pl.DataType]:
    return dict(lf.collect_schema())


class _Planner:
    """Builds the two frames round by round (see the module docstring)."""

    def __init__(self, policies: m.PolicySet, snap: Snapshot, as_of: dt.date) -> None:
        self.policies, self.as_of = policies, as_of
        self.info = Analysis.of(policies)
        self.household_view = snap.household.select(
            [pl.col(n).alias(f"household__{n}") for n in HOUSEHOLD.fields])
        self.person = self._person_rows(snap)
        hid, key = self.person.collect_schema().get(HID), self.household_view.collect_schema().get("household__id")
        if hid is not None and key is not None and hid != key:  # keys of different widths meet as the person's
            self.household_view = self.household_view.with_columns(pl.col("household__id").cast(hid))
        self.has_household_columns = False
        if self.info.household_in_aggs:  # aggregates need the household's fields on every member row
            self.person = self.person.join(self.household_view, left_on=HID, right_on="household__id",
                                           how="left", coalesce=False)
            self.has_household_columns = True
        self.household: pl.LazyFrame | None = None
        self.done: set[str] = set()  # policies evaluated (and, for household ones, on the person rows)
        self.aggs_done: set[str] = set()
        self.person_aggs: set[str] = set()  # aggregates (keys) whose column is on the person rows

    def _person_rows(self, snap: Snapshot) -> pl.LazyFrame:
        lf = snap.person
        names = set(lf.collect_schema().names())
        bound = {n for n in PREVIOUS.fields if f"previous__{n}" in names}
        wanted = self.info.previous - bound
        if wanted and snap.previous is not None:
            # `previous.id` itself is the join key: kept (null where the person had no previous row)
            # only when a policy reads it.
            prev = snap.previous.select([pl.col("id").alias("previous__id")]
                                        + [pl.col(n).alias(f"previous__{n}") for n in sorted(wanted - {"id"})])
            lf = lf.join(prev, left_on="id", right_on="previous__id", how="left", coalesce="id" not in wanted)
        elif wanted:
            types = polars_schema(PREVIOUS)
            lf = lf.with_columns([pl.lit(None, dtype=types[n]).alias(f"previous__{n}") for n in sorted(wanted)])
        return lf

    def _compiler(self, policy: m.Policy, schema: Mapping[str, pl.DataType],
                  params: Mapping[str, str] | None = None) -> _Compiler:
        names = {k: a.name for k, a in self.info.aggs.items()}
        return _Compiler(self.policies, policy, self.as_of, aggs=names, params=params, schema=schema)

    def build(self) -> pl.LazyFrame:
        pending = list(self.policies.policies)
        if not pending:
            self._aggregate_round()
        while pending:
            before = len(pending)
            self._aggregate_round()
            # household policies, on the household rows
            hh_done = {p.id for p in self.policies.policies if p.unit == "household" and p.id in self.done}
            batch = self.info.batch([p for p in pending if p.unit == "household"], hh_done, self.aggs_done)
            if batch and self.household is not None:
                # cached: the person rows join it, and a caller may read it as the household subjects
                self.household = self._evaluate(self.household, batch, "household").cache()
            self._join_household([p for p in batch])
            pending = [p for p in pending if p.id not in self.done]
            # person policies, on the person rows
            batch = self.info.batch([p for p in pending if p.unit == "person"], set(self.done), self.person_aggs)
            if batch:
                self.person = self._evaluate(self.person, batch, "person")
                self.done |= {p.id for p in batch}
            pending = [p for p in pending if p.id not in self.done]
            if len(pending) == before:  # cannot happen for a checked (acyclic) policy set
                raise ValueError(f"policies cannot be ordered: {[p.id for p in pending]}")
        if self.household is None or not self.has_household_columns:
            self._join_household([])
        return self.person.drop([a.name for k, a in self.info.aggs.items() if k in self.person_aggs])

    def _aggregate_round(self) -> None:
        """Every aggregate whose inputs are on the person rows, in one group_by; the household frame."""
        ready = [(k, a) for k, a in self.info.aggs.items() if k not in self.aggs_done and a.needs <= self.done]
        schema = _frame_schema(self.person)
        exprs = [self._compiler(a.policy, schema).aggregate(a.node).alias(a.name) for _, a in ready]
        if self.household is None:
            members = self.person.filter(pl.col(HID).is_not_null())
            grouped = (members.group_by(HID).agg(exprs) if exprs else members.select(HID).unique())
            self.household = grouped.join(self.household_view, left_on=HID, right_on="household__id", how="left",
                                          coalesce=False)
        elif exprs:
            grouped = self.person.filter(pl.col(HID).is_not_null()).group_by(HID).agg(exprs)
            self.household = self.household.join(grouped, on=HID, how="left")
        self.aggs_done |= {k for k, _ in ready}

    def _join_household(self, batch: list[m.Policy]) -> None:
        """Bring the household frame's new columns onto the person rows, in one join."""
        assert self.household is not None
        cols = {k: a for k, a in self.info.aggs.items() if k in self.aggs_done and k not in self.person_aggs}
        outcome = [c for p in batch for c in (col_eligible(p.id), col_criteria(p.id), col_amount(p.id))]
        view = [] if self.has_household_columns else [f"household__{n}" for n in HOUSEHOLD.fields]
        if not (cols or outcome or view):
            return
        right = self.household.select([pl.col(HID), *[pl.col(c) for c in view], *[pl.col(a.name) for a in cols.values()],
                                       *[pl.col(c) for c in outcome]])
        lf = self.person.join(right, on=HID, how="left")
        if batch:  # a person without a household: no household outcome
            lf = lf.with_columns([pl.col(col_eligible(p.id)).fill_null(False) for p in batch]
                                 + [pl.col(col_criteria(p.id)).fill_null(0) for p in batch])
        self.person = lf
        self.person_aggs |= set(cols)
        self.has_household_columns = True
        self.done |= {p.id for p in batch}

    def _evaluate(self, lf: pl.LazyFrame, batch: list[m.Policy], unit: m.Unit) -> pl.LazyFrame:
        """Parameters once per frame, then each dependency depth in one with_columns."""
        schema = _frame_schema(lf)
        region = "region_code" if unit == "person" else "household__region_code"
        params = {name: f"__param_{unit}_{name}" for name in regional_params(self.policies, batch, self.as_of)}
        if params:
            looker = self._compiler(batch[0], schema)
            lf = lf.with_columns([looker.param(name, pl.col(region), schema.get(region)).alias(col)
                                  for name, col in params.items()])
        depth = depths(batch)
        for d in sorted(set(depth.values())):
            level = [p for p in batch if depth[p.id] == d]
            crit, final = [], []
            for p in level:
                comp = self._compiler(p, schema, params)
                tmp = [f"__{p.id}__c{i}" for i in range(len(p.criteria))]
                crit += [comp.expr(c.expr).fill_null(False).alias(t) for c, t in zip(p.criteria, tmp, strict=True)]
                bitmap = pl.sum_horizontal([pl.col(t).cast(pl.Int64) * (1 << i) for i, t in enumerate(tmp)])
                eligible = pl.all_horizontal([pl.col(t) for t in tmp])
                amount = (pl.when(eligible).then(comp.expr(p.amount)).otherwise(None)
                          if p.amount is not None else pl.lit(None, dtype=pl.Int64))
                final += [bitmap.cast(pl.Int64).alias(col_criteria(p.id)), eligible.alias(col_eligible(p.id)),
                          amount.cast(pl.Int64).alias(col_amount(p.id))]
            lf = lf.with_columns(crit).with_columns(final)
            schema = _frame_schema(lf)
        drop = [f"__{p.id}__c{i}" for p in batch for i in range(len(p.criteria))] + list(params.values())
        return lf.drop(drop)


def plan(policies: m.PolicySet, snap: Snapshot, *, as_of: dt.date) -> pl.LazyFrame:
    """One LazyFrame, a row per person: the person view's columns (and any other columns the
    person frame carries), `household__<field>` for the household view, `previous__<field>` for
    the previous fields the policies read, and each policy's three columns. For a household
    policy every member carries the household's outcome; a person without a household has
    eligible false, criteria 0 and no amount."""
    return _Planner(policies, snap, as_of).build()


def household_plan(policies: m.PolicySet, snap: Snapshot, *, as_of: dt.date) -> pl.LazyFrame:
    """One LazyFrame, a row per household with members: `household_id`, `household__<field>` and
    the household policies' three columns (the household policies' subjects)."""
    _person, household = _frames(policies, snap, as_of)
    keep = [HID, *[f"household__{n}" for n in HOUSEHOLD.fields]]
    keep += [c for p in policies.policies if p.unit == "household"
             for c in (col_eligible(p.id), col_criteria(p.id), col_amount(p.id))]
    return household.select(keep)


_RESULT_SCHEMA = {"policy": pl.String, "unit": pl.String, "subject_id": pl.Int64,
                  "eligible": pl.Boolean, "criteria": pl.Int64, "amount_fen": pl.Int64}


def _frames(policies: m.PolicySet, snap: Snapshot, as_of: dt.date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    planner = _Planner(policies, snap, as_of)
    person = planner.build()
    assert planner.household is not None
    return person, planner.household


def outcomes(policies: m.PolicySet, snap: Snapshot, *, as_of: dt.date, region: str | None = None) -> pl.LazyFrame:
    """The long result (policy, unit, subject_id, eligible, criteria, amount_fen) straight from
    the two frames: person policies from the person rows, household policies from the household
    rows (no regrouping of members)."""
    person, household = _frames(policies, snap, as_of)
    parts = []
    for policy in policies.policies:
        lf, sid, reg = ((person, "id", "region_code") if policy.unit == "person"
                        else (household, HID, "household__region_code"))
        if region:
            lf = lf.filter(pl.col(reg).cast(pl.String).str.starts_with(region))
        parts.append(lf.select(pl.lit(policy.id).alias("policy"), pl.lit(policy.unit).alias("unit"),
                               pl.col(sid).cast(pl.Int64).alias("subject_id"),
                               pl.col(col_eligible(policy.id)).alias("eligible"),
                               pl.col(col_criteria(policy.id)).alias("criteria"),
                               pl.col(col_amount(policy.id)).alias("amount_fen")))
    if not parts:
        return pl.LazyFrame(schema=_RESULT_SCHEMA)
    return pl.concat(parts, how="vertical_relaxed")


def totals(policies: m.PolicySet, snap: Snapshot, *, as_of: dt.date, region: str | None = None) -> pl.LazyFrame:
    """Per policy: unit, subjects, eligible and the eligible subjects' total amount in fen —
    counted in the same plan, without materialising a row per subject and policy."""
    person, household = _frames(policies, snap, as_of)
    if region:
        person = person.filter(pl.col("region_code").cast(pl.String).str.starts_with(region))
        household = household.filter(pl.col("household__region_code").cast(pl.String).str.starts_with(region))
    parts = []
    for unit, lf in (("person", person), ("household", household)):
        mine = [p for p in policies.policies if p.unit == unit]
        if not mine:
            continue
        row = lf.select([pl.len().cast(pl.Int64).alias("__subjects")]
                        + [pl.col(col_eligible(p.id)).sum().cast(pl.Int64).alias(f"{p.id}__e") for p in mine]
                        + [pl.col(col_amount(p.id)).filter(pl.col(col_eligible(p.id))).sum().cast(pl.Int64)
                           .alias(f"{p.id}__a") for p in mine])
        parts += [row.select(pl.lit(p.id).alias("policy"), pl.lit(unit).alias("unit"),
                             pl.col("__subjects").alias("subjects"), pl.col(f"{p.id}__e").alias("eligible"),
                             pl.col(f"{p.id}__a").alias("amount_fen")) for p in mine]
    if not parts:
        return pl.LazyFrame(schema={"policy": pl.String, "unit": pl.String, "subjects": pl.Int64,
                                    "eligible": pl.Int64, "amount_fen": pl.Int64})
    order = {p.id: i for i, p in enumerate(policies.policies)}
    return pl.concat(parts).with_columns(pl.col("policy").replace_strict(order, return_dtype=pl.Int32)
                                         .alias("__order")).sort("__order").drop("__order")


def results(policies: m.PolicySet, lf: pl.LazyFrame, *, region: str | None = None) -> pl.LazyFrame:
    """The long result (policy, unit, subject_id, eligible, criteria, amount_fen) of a plan."""
    parts = []
    for policy in policies.policies:
        cols = [pl.lit(policy.id).alias("policy"), pl.lit(policy.unit).alias("unit")]
        out = [pl.col(col_eligible(policy.id)).alias("eligible"), pl.col(col_criteria(policy.id)).alias("criteria"),
               pl.col(col_amount(policy.id)).alias("amount_fen")]
        if policy.unit == "person":
            sub = lf
            if region:
                sub = sub.filter(pl.col("region_code").cast(pl.String).str.starts_with(region))
            parts.append(sub.select(*cols, pl.col("id").alias("subject_id"), *out))
        else:
            sub = lf.filter(pl.col(HID).is_not_null())
            if region:
                sub = sub.filter(pl.col("household__region_code").cast(pl.String).str.starts_with(region))
            parts.append(sub.group_by(HID).agg(
                pl.col(col_eligible(policy.id)).first().alias("eligible"),
                pl.col(col_criteria(policy.id)).first().alias("criteria"),
                pl.col(col_amount(policy.id)).first().alias("amount_fen"))
                .select(*cols, pl.col(HID).alias("subject_id"), "eligible", "criteria", "amount_fen"))
    if not parts:
        return pl.LazyFrame(schema=_RESULT_SCHEMA)
    return pl.concat(parts, how="vertical_relaxed")
