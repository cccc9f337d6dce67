"""Policy tree → Polars lazy expressions: the embedded default backend.

The whole policy set becomes one LazyFrame over the person rows (joined with their household
and previous snapshot). Household aggregates are window expressions (`over("household_id")`),
parameters a lookup by region prefix resolved for the as-of date, and each policy adds
`<id>__eligible`, `<id>__criteria` and `<id>__amount` columns, in dependency order, so a
later policy reads an earlier one's outcome as a column.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from tongban.policy import model as m
from tongban.policy.views import HOUSEHOLD, POLARS_TYPES, PREVIOUS, Snapshot, polars_schema

HID = "household_id"


def col_eligible(policy_id: str) -> str:
    return f"{policy_id}__eligible"


def col_criteria(policy_id: str) -> str:
    return f"{policy_id}__criteria"


def col_amount(policy_id: str) -> str:
    return f"{policy_id}__amount"


def base_frame(snap: Snapshot) -> pl.LazyFrame:
    """Person rows with `household__<field>` and `previous__<field>` columns."""
    hh = snap.household.select([pl.col(n).alias(f"household__{n}") for n in HOUSEHOLD.fields])
    lf = snap.person.join(hh, left_on=HID, right_on="household__id", how="left", coalesce=False)
    if snap.previous is not None:
        prev = snap.previous.select([pl.col(n).alias(f"previous__{n}") for n in PREVIOUS.fields])
        lf = lf.join(prev, left_on="id", right_on="previous__id", how="left", coalesce=False)
    else:
        lf = lf.with_columns([pl.lit(None, dtype=t).alias(f"previous__{n}") for n, t in polars_schema(PREVIOUS).items()])
    return lf


class _Compiler:
    def __init__(self, policies: m.PolicySet, policy: m.Policy, as_of: dt.date) -> None:
        self.policies = policies
        self.policy = policy
        self.as_of = as_of
        self.region = pl.col("region_code" if policy.unit == "person" else "household__region_code")

    def expr(self, e: m.Expr) -> pl.Expr:  # noqa: C901 - one case per node kind
        c = self.expr
        match e:
            case m.Lit():
                return pl.lit(e.value, dtype=POLARS_TYPES[e.type])
            case m.AsOf():
                return pl.lit(self.as_of, dtype=pl.Date)
            case m.FieldRef():
                return pl.col(e.name if e.scope == "person" else f"{e.scope}__{e.name}")
            case m.ParamRef():
                return self.param(e)
            case m.Compare():
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
                a = c(e.operand)
                found = a.is_in(pl.Series([x.value for x in e.values], dtype=POLARS_TYPES[e.operand.type]).implode())
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
                return pl.when(pl.col(HID).is_null()).then(None).otherwise(self.agg(e))
        raise TypeError(f"unknown node {e!r}")

    def agg(self, e: m.HouseholdAgg) -> pl.Expr:
        if e.arg is None:
            return pl.len().cast(pl.Int64).over(HID)
        a = self.expr(e.arg)
        if e.op == "sum":
            return pl.when(a.is_null().any().over(HID)).then(None).otherwise(a.sum().over(HID))
        if e.op == "count":
            return a.fill_null(False).cast(pl.Int64).sum().over(HID)
        if e.op == "any":
            return a.fill_null(False).any().over(HID)
        return a.fill_null(False).all().over(HID)

    def param(self, e: m.ParamRef) -> pl.Expr:
        """Longest-prefix lookup of the subject's region in the values in force on the as-of date."""
        table = self.policies.parameters[e.name].table_at(self.as_of)
        dtype = POLARS_TYPES[e.type]
        by_len: dict[int, dict[str, object]] = defaultdict(dict)
        for prefix, value in table.items():
            by_len[len(prefix)][prefix] = value
        parts: list[pl.Expr] = []
        for n in sorted(by_len, reverse=True):
            if n == 0:
                parts.append(pl.lit(by_len[0][""], dtype=dtype))
                continue
            mapping = by_len[n]
            parts.append(self.region.str.slice(0, n).replace_strict(
                list(mapping), list(mapping.values()), default=None, return_dtype=dtype))
        if not parts:
            return pl.lit(None, dtype=dtype)
        looked = parts[0] if len(parts) == 1 else pl.coalesce(parts)
        return pl.when(self.region.is_null()).then(None).otherwise(looked)


def policy_columns(policies: m.PolicySet, policy: m.Policy, as_of: dt.date) -> list[list[pl.Expr]]:
    """The column stages of one policy: its criteria, then bitmap/eligible, then amount."""
    comp = _Compiler(policies, policy, as_of)
    tmp = [f"__{policy.id}__c{i}" for i in range(len(policy.criteria))]
    crit = [comp.expr(c.expr).fill_null(False).alias(t) for c, t in zip(policy.criteria, tmp, strict=True)]
    bitmap = pl.sum_horizontal([pl.col(t).cast(pl.Int64) * (1 << i) for i, t in enumerate(tmp)])
    full = (1 << len(policy.criteria)) - 1
    if policy.unit == "household":  # households are the members' household; none without one
        bitmap = pl.when(pl.col(HID).is_null()).then(0).otherwise(bitmap)
    eligible = pl.col(col_criteria(policy.id)) == full
    amount = (pl.when(pl.col(col_eligible(policy.id))).then(comp.expr(policy.amount)).otherwise(None)
              if policy.amount is not None else pl.lit(None, dtype=pl.Int64))
    return [crit, [bitmap.cast(pl.Int64).alias(col_criteria(policy.id))],
            [eligible.alias(col_eligible(policy.id))], [amount.cast(pl.Int64).alias(col_amount(policy.id))]]


def plan(policies: m.PolicySet, snap: Snapshot, *, as_of: dt.date) -> pl.LazyFrame:
    """One LazyFrame, a row per person: the view columns plus each policy's three columns."""
    lf = base_frame(snap)
    for policy in policies.policies:
        for stage in policy_columns(policies, policy, as_of):
            lf = lf.with_columns(stage)
        lf = lf.drop([f"__{policy.id}__c{i}" for i in range(len(policy.criteria))])
    return lf


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
                sub = sub.filter(pl.col("region_code").str.starts_with(region))
            parts.append(sub.select(*cols, pl.col("id").alias("subject_id"), *out))
        else:
            sub = lf.filter(pl.col(HID).is_not_null())
            if region:
                sub = sub.filter(pl.col("household__region_code").str.starts_with(region))
            parts.append(sub.group_by(HID).agg(
                pl.col(col_eligible(policy.id)).first().alias("eligible"),
                pl.col(col_criteria(policy.id)).first().alias("criteria"),
                pl.col(col_amount(policy.id)).first().alias("amount_fen"))
                .select(*cols, pl.col(HID).alias("subject_id"), "eligible", "criteria", "amount_fen"))
    if not parts:
        return pl.LazyFrame(schema={"policy": pl.String, "unit": pl.String, "subject_id": pl.Int64,
                                    "eligible": pl.Boolean, "criteria": pl.Int64, "amount_fen": pl.Int64})
    return pl.concat(parts, how="vertical_relaxed")
