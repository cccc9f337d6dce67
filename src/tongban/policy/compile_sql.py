"""Policy tree → SQLGlot expressions → SQL for DuckDB, PostgreSQL and Spark.

The query mirrors the Polars plan: a `base` CTE joins each person with their household and
previous snapshot; then each policy adds, in dependency order, a CTE with its criteria bitmap
and one with its outcome and amount. Household aggregates are window functions partitioned
by household_id. Every value enters as a typed literal node; no query text is concatenated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from tongban.policy import model as m
from tongban.policy.compile_polars import HID, col_amount, col_criteria, col_eligible
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS

Dialect = str  # "duckdb" | "postgres" | "spark"

SQL_TYPES: dict[m.ValueType, str] = {"int": "BIGINT", "money": "BIGINT", "bool": "BOOLEAN", "str": "TEXT",
                                     "date": "DATE"}


def _type(t: m.ValueType) -> exp.DataType:
    return exp.DataType.build(SQL_TYPES[t])


def _cast(e: exp.Expression, t: m.ValueType) -> exp.Expression:
    return exp.Cast(this=e, to=_type(t))


def literal(value: object, t: m.ValueType) -> exp.Expression:
    """A typed SQL literal (null typed too, so every dialect knows what it is)."""
    if value is None:
        return _cast(exp.Null(), t)
    if t == "bool":
        return exp.Boolean(this=bool(value))
    if t in ("int", "money"):
        return _cast(exp.Literal.number(int(value)), t)  # type: ignore[call-overload]
    if t == "date":
        assert isinstance(value, dt.date)
        return _cast(exp.Literal.string(value.isoformat()), "date")
    return exp.Literal.string(str(value))


def _paren(e: Any) -> exp.Expression:
    return exp.Paren(this=e)


def _case(ifs: list[tuple[Any, Any]], default: Any = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in ifs], default=default)


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def _window(fn: exp.Expression) -> exp.Expression:
    return exp.Window(this=fn, partition_by=[exp.column(HID)])


def _int(n: int) -> exp.Expression:
    return exp.Literal.number(n)


class _Compiler:
    def __init__(self, policies: m.PolicySet, policy: m.Policy, as_of: dt.date) -> None:
        self.policies = policies
        self.policy = policy
        self.as_of = as_of
        self.region = exp.column("region_code" if policy is None or policy.unit == "person"
                                 else "household__region_code")

    def expr(self, e: m.Expr) -> exp.Expression:  # noqa: C901 - one case per node kind
        c = self.expr
        match e:
            case m.Lit():
                return literal(e.value, e.type)
            case m.AsOf():
                return literal(self.as_of, "date")
            case m.FieldRef():
                return exp.column(e.name if e.scope == "person" else f"{e.scope}__{e.name}")
            case m.ParamRef():
                return self.param(e)
            case m.Compare():
                cls = {"lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE, "eq": exp.EQ, "ne": exp.NEQ}[e.op]
                return _paren(cls(this=c(e.left), expression=c(e.right)))
            case m.Arith():
                a, b = c(e.left), c(e.right)
                if e.op != "div":
                    cls2 = {"add": exp.Add, "sub": exp.Sub, "mul": exp.Mul}[e.op]
                    return _paren(cls2(this=a, expression=b))
                two = _int(2)
                num = exp.Add(this=exp.Mul(this=two, expression=exp.Abs(this=a)), expression=exp.Abs(this=b))
                den = exp.Nullif(this=_paren(exp.Mul(this=two, expression=exp.Abs(this=b))), expression=_int(0))
                q = _cast(exp.IntDiv(this=_paren(num), expression=den), "int")
                neg = exp.NEQ(this=_paren(exp.LT(this=a, expression=_int(0))),
                              expression=_paren(exp.LT(this=b, expression=_int(0))))
                return _case([(neg, exp.Neg(this=_paren(q)))], q)
            case m.In():
                found = exp.In(this=c(e.operand), expressions=[literal(x.value, x.type) for x in e.values])
                return _paren(exp.Not(this=_paren(found)) if e.negate else found)
            case m.And():
                return _paren(exp.and_(*[c(i) for i in e.items]))
            case m.Or():
                return _paren(exp.or_(*[c(i) for i in e.items]))
            case m.Not():
                return _paren(exp.Not(this=_paren(c(e.item))))
            case m.AgeAt():
                b, at = c(e.birth), c(e.at)

                def part(unit: str, d: exp.Expression) -> exp.Expression:
                    return _cast(exp.Extract(this=exp.var(unit), expression=d), "int")

                def md(d: exp.Expression) -> exp.Expression:
                    return exp.Add(this=exp.Mul(this=part("MONTH", d), expression=_int(100)), expression=part("DAY", d))

                before = _case([(exp.LT(this=md(at), expression=md(b)), _int(1))], _int(0))
                years = exp.Sub(this=exp.Sub(this=part("YEAR", at), expression=part("YEAR", b)), expression=before)
                return _case([(exp.or_(_is_null(b), _is_null(at)), _cast(exp.Null(), "int"))], _cast(years, "int"))
            case m.DateDiff():
                return _cast(exp.DateDiff(this=c(e.end), expression=c(e.start), unit=exp.var("DAY")), "int")
            case m.AddDays():
                return _cast(exp.DateAdd(this=c(e.date), expression=c(e.days), unit=exp.var("DAY")), "date")
            case m.Call():
                args = [c(a) for a in e.args]
                if e.name == "is_null":
                    return _paren(_is_null(args[0]))
                if e.name == "coalesce":
                    return exp.Coalesce(this=args[0], expressions=args[1:])
                fn = (exp.Least if e.name == "min" else exp.Greatest)(this=args[0], expressions=args[1:])
                return _case([(exp.or_(*[_is_null(a) for a in args]), _cast(exp.Null(), e.type))], fn)
            case m.Cond():
                return _case([(c(e.test), c(e.then))], c(e.otherwise))
            case m.PolicyRef():
                return exp.column(col_eligible(e.policy))
            case m.HouseholdAgg():
                return _case([(_is_null(exp.column(HID)), _cast(exp.Null(), e.type))], self.agg(e))
        raise TypeError(f"unknown node {e!r}")

    def agg(self, e: m.HouseholdAgg) -> exp.Expression:
        if e.arg is None:
            return _cast(_window(exp.Count(this=exp.Star())), "int")
        a = self.expr(e.arg)
        if e.op == "sum":
            complete = exp.EQ(this=_window(exp.Count(this=a)), expression=_window(exp.Count(this=exp.Star())))
            return _case([(complete, _cast(_window(exp.Sum(this=a)), e.type))])
        flag = _case([(a, _int(1))], _int(0))
        if e.op == "count":
            return _cast(_window(exp.Sum(this=flag)), "int")
        fn = exp.Max if e.op == "any" else exp.Min
        return _paren(exp.EQ(this=_window(fn(this=flag)), expression=_int(1)))

    def param(self, e: m.ParamRef) -> exp.Expression:
        table = self.policies.parameters[e.name].table_at(self.as_of)
        by_len: dict[int, dict[str, object]] = defaultdict(dict)
        for prefix, value in table.items():
            by_len[len(prefix)][prefix] = value
        parts: list[exp.Expression] = []
        for n in sorted(by_len, reverse=True):
            if n == 0:
                parts.append(literal(by_len[0][""], e.type))
                continue
            key = exp.Substring(this=self.region, start=_int(1), length=_int(n))
            parts.append(_case([(exp.EQ(this=key, expression=exp.Literal.string(k)), literal(v, e.type))
                                for k, v in by_len[n].items()]))
        if not parts:
            return _cast(exp.Null(), e.type)
        looked = parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])
        return _case([(_is_null(self.region), _cast(exp.Null(), e.type))], looked)


def _bitmap(policy: m.Policy, comp: _Compiler) -> exp.Expression:
    total: exp.Expression = _int(0)
    for i, c in enumerate(policy.criteria):
        met = exp.Coalesce(this=comp.expr(c.expr), expressions=[exp.Boolean(this=False)])
        total = exp.Add(this=total, expression=_case([(met, _int(1 << i))], _int(0)))
    if policy.unit == "household":
        total = _case([(_is_null(exp.column(HID)), _int(0))], total)
    return _cast(total, "int")


def _base(sources: Mapping[str, exp.Expression], extra: Sequence[str] = ()) -> exp.Select:
    person = exp.alias_(sources["person"], "p", table=True)
    cols: list[Any] = [exp.column(n, table="p") for n in [*PERSON.fields, *extra]]
    cols += [exp.alias_(exp.column(n, table="h"), f"household__{n}") for n in HOUSEHOLD.fields]
    q = exp.select(*cols).from_(person).join(
        exp.alias_(sources["household"], "h", table=True), on=exp.EQ(
            this=exp.column(HID, table="p"), expression=exp.column("id", table="h")), join_type="left")
    if "previous" in sources:
        q = q.select(*[exp.alias_(exp.column(n, table="v"), f"previous__{n}") for n in PREVIOUS.fields]).join(
            exp.alias_(sources["previous"], "v", table=True), on=exp.EQ(
                this=exp.column("id", table="p"), expression=exp.column("id", table="v")), join_type="left")
    else:
        q = q.select(*[exp.alias_(_cast(exp.Null(), f.type), f"previous__{n}") for n, f in PREVIOUS.fields.items()])
    return q


def plan(policies: m.PolicySet, *, as_of: dt.date, sources: Mapping[str, exp.Expression],
         columns: list[str] | None = None, extra_columns: Sequence[str] = ()) -> exp.Select:
    """One SELECT: a row per person with each policy's `__criteria`, `__eligible`, `__amount`.

    `sources` maps view names (person, household, optionally previous) to table expressions
    (a table, `read_parquet(...)`, a subquery). `columns` limits the view columns returned;
    `extra_columns` are further columns of the person source carried through to the result
    (as the Polars plan carries every column of the person frame)."""
    ctes: list[tuple[str, exp.Expression]] = [("base", _base(sources, extra_columns))]
    prev = "base"
    for k, policy in enumerate(policies.policies):
        comp = _Compiler(policies, policy, as_of)
        s1, s2 = f"s{k}a", f"s{k}b"
        ctes.append((s1, exp.select(exp.Star(), exp.alias_(_bitmap(policy, comp), col_criteria(policy.id)))
                     .from_(prev)))
        full = exp.EQ(this=exp.column(col_criteria(policy.id)), expression=_int((1 << len(policy.criteria)) - 1))
        amount = (_case([(full, _cast(comp.expr(policy.amount), "money"))])
                  if policy.amount is not None else _cast(exp.Null(), "money"))
        ctes.append((s2, exp.select(exp.Star(), exp.alias_(_paren(full), col_eligible(policy.id)),
                                    exp.alias_(amount, col_amount(policy.id))).from_(s1)))
        prev = s2
    out: list[str] = list(columns) if columns is not None else [
        *PERSON.fields, *(f"household__{n}" for n in HOUSEHOLD.fields)]
    out += [c for c in extra_columns if c not in out]
    for policy in policies.policies:
        out += [col_eligible(policy.id), col_criteria(policy.id), col_amount(policy.id)]
    q = exp.select(*[exp.column(c) for c in out]).from_(prev)
    for name, body in ctes:
        q = q.with_(name, as_=body)
    return q


def to_sql(policies: m.PolicySet, *, as_of: dt.date, dialect: Dialect, sources: Mapping[str, exp.Expression],
           columns: list[str] | None = None, pretty: bool = False) -> str:
    """The plan rendered for a dialect (duckdb, postgres, spark)."""
    return plan(policies, as_of=as_of, sources=sources, columns=columns).sql(dialect=dialect, pretty=pretty)


def parquet_sources(folder: str, *, previous: bool) -> dict[str, exp.Expression]:
    """DuckDB table functions reading a snapshot folder (paths are string literals)."""
    from pathlib import Path

    def scan(view: str) -> exp.Expression:
        path = exp.Literal.string(str(Path(folder) / f"{view}.parquet"))
        return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[path]))

    out = {"person": scan("person"), "household": scan("household")}
    if previous:
        out["previous"] = scan("previous")
    return out


def table_sources(schema: str | None = None, names: Mapping[str, str] | None = None,
                  views: tuple[str, ...] = ("person", "household", "previous")) -> dict[str, exp.Expression]:
    """Tables named like the views (optionally in a schema, optionally renamed)."""
    names = names or {}
    return {v: exp.to_table(f"{schema}.{names.get(v, v)}" if schema else names.get(v, v)) for v in views}
