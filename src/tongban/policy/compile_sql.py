"""Policy tree → SQLGlot expressions → SQL for DuckDB, PostgreSQL and Spark.

The query is the Polars plan (compile_polars) written as common table expressions:

- the **person rows**: the person view, the previous snapshot's fields the policies read (bound
  on the person source as `previous__<field>`, else a left join by person id, and only when read);
- the **household rows**, one per household with members: every distinct household aggregate in
  one `GROUP BY household_id` over the person rows, left-joined with the household view; the
  household policies are evaluated here;
- the household rows left-joined once onto the person rows by `household_id` (view fields,
  aggregates, household outcomes); the person policies are evaluated there.

Policies at the same dependency depth share a SELECT layer (one for their criteria, one for
bitmap, outcome and amount). A parameter with regional values is looked up once per frame by
joining a small VALUES table per region-prefix length; `age_at(birth) <op> N` is a comparison of
the birth date with a date cutoff. When an aggregate reads a policy's outcome, it is computed
in a later round, as in Polars. Every value enters as a typed literal node; no query text is
concatenated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlglot import exp

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
    numbers_read,
    regional_params,
)
from tongban.policy.views import HOUSEHOLD, PERSON, PREVIOUS

Dialect = str  # "duckdb" | "postgres" | "spark"

SQL_TYPES: dict[m.ValueType, str] = {"int": "BIGINT", "money": "BIGINT", "bool": "BOOLEAN", "str": "TEXT",
                                     "date": "DATE"}


_TYPES = {t: exp.DataType.build(exp.DataType.Type[name]) for t, name in SQL_TYPES.items()}


def _type(t: m.ValueType) -> exp.DataType:
    return _TYPES[t].copy()  # not parsed from text at each use


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


def _int(n: int) -> exp.Expression:
    return exp.Literal.number(n)


def _eq(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.EQ(this=a, expression=b)


def _as(e: exp.Expression, name: str) -> exp.Expr:
    """`e AS name` (e is not copied: every node here is built for its one place)."""
    return exp.alias_(e, name, copy=False)


def _wide(name: str, table: str, t: m.ValueType, alias: str | None = None) -> exp.Expr:
    """A view column as it enters the plan: an int or money column cast to BIGINT, so a narrower
    source column (INTEGER, SMALLINT) computes in 64 bits as declared (DuckDB would multiply two
    INT32 in 32 bits and overflow); a cast to the column's own type costs nothing."""
    col = exp.column(name, table=table)
    return _as(_cast(col, t) if t in ("int", "money") else col, alias or name)


def _all(table: str) -> exp.Expression:
    """`table.*`"""
    return exp.Column(this=exp.Star(), table=exp.to_identifier(table))


class ExprCompiler:
    """Expressions of one policy over rows whose columns are named as in `plan`'s output: person
    fields as is, `household__<f>`, `previous__<f>`, aggregates and parameter columns by the
    names the plan gives them, other policies' outcomes as `<id>__eligible`."""

    def __init__(self, policies: m.PolicySet, policy: m.Policy | None, as_of: dt.date, *,
                 aggs: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None) -> None:
        self.policies = policies
        self.policy = policy
        self.as_of = as_of
        self.region = exp.column("region_code" if policy is None or policy.unit == "person"
                                 else "household__region_code")
        self.aggs = aggs or {}  # aggregate key → column
        self.params = params or {}  # parameter id → column

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
                if e.name in self.params:
                    return exp.column(self.params[e.name])
                return self.param(e.name, e.type)
            case m.Compare():
                folded = self.age_compare(e)
                if folded is not None:
                    return folded
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
                return self.age(e)
            case m.DateDiff():
                return _cast(exp.DateDiff(this=c(e.end), expression=c(e.start), unit=exp.var("DAY")), "int")
            case m.AddDays():
                # a day count is a 32-bit INT where it meets a date: Spark's date_add takes no BIGINT
                days = exp.Cast(this=c(e.days), to=exp.DataType.build("INT"))
                return _cast(exp.DateAdd(this=c(e.date), expression=days, unit=exp.var("DAY")), "date")
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
                assert self.policy is not None
                return exp.column(self.aggs[agg_key(self.policy, e)])
        raise TypeError(f"unknown node {e!r}")

    def age(self, e: m.AgeAt) -> exp.Expression:
        """Completed years; on the as-of date, the date's parts are constants."""
        b = self.expr(e.birth)

        def part(unit: str, d: exp.Expression) -> exp.Expression:
            return _cast(exp.Extract(this=exp.var(unit), expression=d), "int")

        def md(d: exp.Expression) -> exp.Expression:
            return exp.Add(this=exp.Mul(this=part("MONTH", d), expression=_int(100)), expression=part("DAY", d))

        if isinstance(e.at, m.AsOf):
            year, at_md = _int(self.as_of.year), _int(self.as_of.month * 100 + self.as_of.day)
            before = _case([(exp.GT(this=md(b), expression=at_md), _int(1))], _int(0))
            return _cast(exp.Sub(this=exp.Sub(this=year, expression=part("YEAR", b)), expression=before), "int")
        at = self.expr(e.at)
        before = _case([(exp.LT(this=md(at), expression=md(b)), _int(1))], _int(0))
        years = exp.Sub(this=exp.Sub(this=part("YEAR", at), expression=part("YEAR", b)), expression=before)
        return _case([(exp.or_(_is_null(b), _is_null(at)), _cast(exp.Null(), "int"))], _cast(years, "int"))

    def age_compare(self, e: m.Compare) -> exp.Expression | None:
        """`age_at(birth) <op> N` on the as-of date as comparisons of the birth date with cutoff
        dates (`age_cutoffs`). None when the comparison is not of that form."""
        cut = age_cutoffs(e, self.policies, self.as_of)
        if cut is None:
            return None
        if isinstance(cut, AgeBranches):
            then, other = self.age_compare(cut.then), self.age_compare(cut.otherwise)
            if then is None or other is None:
                return None
            return _case([(self.expr(cut.test), then)], other)
        birth = self.expr(cut.birth)
        born_by = [_paren(exp.LTE(this=birth, expression=literal(d, "date"))) for d in cut.born_by]
        out = born_by[0] if len(born_by) == 1 else _paren(exp.and_(born_by[0], exp.Not(this=born_by[1])))
        return _paren(exp.Not(this=out)) if cut.negate else out

    def aggregate(self, e: m.HouseholdAgg) -> exp.Expression:
        """The aggregate as an expression of a `GROUP BY household_id` over the member rows."""
        if e.arg is None:
            return _cast(exp.Count(this=exp.Star()), "int")
        a = self.expr(e.arg)
        if e.op == "sum":  # null if any member's value is null
            complete = exp.EQ(this=exp.Count(this=a), expression=exp.Count(this=exp.Star()))
            return _case([(complete, _cast(exp.Sum(this=a), e.type))])
        if e.op == "count":
            return _cast(exp.Count(this=_case([(a, _int(1))])), "int")
        flag = _case([(a, _int(1))], _int(0))
        fn = exp.Max if e.op == "any" else exp.Min
        return _paren(exp.EQ(this=fn(this=flag), expression=_int(1)))

    def param(self, name: str, t: m.ValueType) -> exp.Expression:
        """Longest-prefix lookup of the row's region, inline (inside an aggregate, where the
        region is each member's own)."""
        table = self.policies.parameters[name].table_at(self.as_of)
        by_len: dict[int, dict[str, object]] = defaultdict(dict)
        for prefix, value in table.items():
            by_len[len(prefix)][prefix] = value
        parts: list[exp.Expression] = []
        for n in sorted(by_len, reverse=True):
            if n == 0:
                parts.append(literal(by_len[0][""], t))
                continue
            key = exp.Substring(this=self.region, start=_int(1), length=_int(n))
            parts.append(_case([(exp.EQ(this=key, expression=exp.Literal.string(k)), literal(v, t))
                                for k, v in by_len[n].items()]))
        if not parts:
            return _cast(exp.Null(), t)
        # an unknown (null) region matches no prefix: it gets the value everywhere, if there is one
        return parts[0] if len(parts) == 1 else exp.Coalesce(this=parts[0], expressions=parts[1:])


class _Planner:
    """Builds the CTEs round by round, as compile_polars' planner builds its two frames."""

    def __init__(self, policies: m.PolicySet, as_of: dt.date, sources: Mapping[str, exp.Expression],
                 extra_columns: Sequence[str], bound_previous: Collection[str]) -> None:
        self.policies, self.as_of, self.sources = policies, as_of, sources
        self.info = Analysis.of(policies)
        self.ctes: list[tuple[str, exp.Query]] = []
        # The first person rows (the view scans) are read by the aggregates and by the join back:
        # written out at both places, not as a CTE, so no engine materializes a copy of the scan.
        self.inline: dict[str, exp.Query] = {}
        self.agg_names = {k: a.name for k, a in self.info.aggs.items()}
        self.person = self._add("tb_person", self._person_rows(extra_columns, set(bound_previous)), inline=True)
        self.has_household_columns = False
        self.needs_household_rows = bool(self.info.aggs) or any(p.unit == "household" for p in policies.policies)
        if self.info.household_in_aggs or not self.needs_household_rows:
            # aggregates read household fields on each member row (or nothing needs household rows)
            self.person = self._add("tb_person", self._with_household_view(self.person), inline=True)
            self.has_household_columns = True
        self.household: str | None = None
        self.done: set[str] = set()
        self.aggs_done: set[str] = set()
        self.person_aggs: set[str] = set()

    def _add(self, stem: str, body: exp.Query, *, inline: bool = False) -> str:
        name = f"{stem}{len(self.ctes) + len(self.inline)}"
        if inline:
            self.inline[name] = body
        else:
            self.ctes.append((name, body))
        return name

    def ref(self, name: str, alias: str) -> exp.Expr:
        """A frame in a FROM clause: its CTE's name, or its body when it is written out."""
        body = self.inline.get(name)
        if body is not None:
            return body.copy().subquery(alias, copy=False)
        return exp.alias_(exp.to_table(name), alias, table=True, copy=False)

    def _person_rows(self, extra: Sequence[str], bound: set[str]) -> exp.Select:
        cols: list[exp.Expr] = [_wide(n, "p", PERSON.fields[n].type) for n in PERSON.fields]
        cols += [exp.column(n, table="p") for n in extra]
        cols += [_wide(f"previous__{n}", "p", PREVIOUS.fields[n].type) for n in sorted(bound)]
        q = exp.select(*cols, copy=False).from_(exp.alias_(self.sources["person"], "p", table=True), copy=False)
        wanted = self.info.previous - bound
        if wanted and "previous" in self.sources:
            q = q.select(*[_wide(n, "v", PREVIOUS.fields[n].type, f"previous__{n}") for n in sorted(wanted)],
                         copy=False).join(
                exp.alias_(self.sources["previous"], "v", table=True),
                on=_eq(exp.column("id", table="p"), exp.column("id", table="v")), join_type="left", copy=False)
        elif wanted:
            q = q.select(*[_as(_cast(exp.Null(), PREVIOUS.fields[n].type), f"previous__{n}")
                           for n in sorted(wanted)], copy=False)
        return q

    def _with_household_view(self, rows: str) -> exp.Select:
        """Rows (with a `household_id`) and the household view's fields as `household__<f>`."""
        cols = [_wide(n, "hv", f.type, f"household__{n}") for n, f in HOUSEHOLD.fields.items()]
        return exp.select(_all("r"), *cols, copy=False).from_(self.ref(rows, "r"), copy=False).join(
            exp.alias_(self.sources["household"], "hv", table=True),
            on=_eq(exp.column(HID, table="r"), exp.column("id", table="hv")), join_type="left", copy=False)

    def _compiler(self, policy: m.Policy, params: Mapping[str, str] | None = None) -> ExprCompiler:
        return ExprCompiler(self.policies, policy, self.as_of, aggs=self.agg_names, params=params)

    def build(self) -> str:
        pending = list(self.policies.policies)
        while pending:
            before = len(pending)
            self._aggregate_round()
            hh_done = {p.id for p in self.policies.policies if p.unit == "household" and p.id in self.done}
            batch = self.info.batch([p for p in pending if p.unit == "household"], hh_done, self.aggs_done)
            if batch:
                assert self.household is not None
                self.household = self._evaluate(self.household, batch, "household")
            self._join_household(batch)
            pending = [p for p in pending if p.id not in self.done]
            batch = self.info.batch([p for p in pending if p.unit == "person"], set(self.done), self.person_aggs)
            if batch:
                self.person = self._evaluate(self.person, batch, "person")
                self.done |= {p.id for p in batch}
            pending = [p for p in pending if p.id not in self.done]
            if len(pending) == before:  # cannot happen for a checked (acyclic) policy set
                raise ValueError(f"policies cannot be ordered: {[p.id for p in pending]}")
        if not self.has_household_columns:
            self._join_household([])
        return self.person

    def _aggregate_round(self) -> None:
        """Every aggregate whose inputs are on the person rows, in one GROUP BY; the household rows."""
        if not self.needs_household_rows:
            return
        ready = [(k, a) for k, a in self.info.aggs.items() if k not in self.aggs_done and a.needs <= self.done]
        if self.household is not None and not ready:
            return
        aggs = [_as(self._compiler(a.policy).aggregate(a.node), a.name) for _, a in ready]
        grouped = (exp.select(exp.column(HID), *aggs, copy=False).from_(self.ref(self.person, "m"), copy=False)
                   .where(exp.Not(this=_is_null(exp.column(HID))), copy=False).group_by(exp.column(HID), copy=False))
        name = self._add("tb_members", grouped)
        if self.household is None:
            self.household = self._add("tb_household", self._with_household_view(name))
        else:
            self.household = self._add("tb_household", exp.select(
                _all("h"), *[exp.column(a.name, table="g") for _, a in ready], copy=False)
                .from_(self.ref(self.household, "h"), copy=False)
                .join(self.ref(name, "g"), on=_eq(exp.column(HID, table="h"), exp.column(HID, table="g")),
                      join_type="left", copy=False))
        self.aggs_done |= {k for k, _ in ready}

    def _join_household(self, batch: list[m.Policy]) -> None:
        """The household rows' new columns onto the person rows, in one left join."""
        cols = [a.name for k, a in self.info.aggs.items() if k in self.aggs_done and k not in self.person_aggs]
        view = [] if self.has_household_columns else [f"household__{n}" for n in HOUSEHOLD.fields]
        if not (cols or batch or view):
            return
        if self.household is None:  # nothing is evaluated on household rows: the view itself
            self.person = self._add("tb_person", self._with_household_view(self.person))
            self.has_household_columns = True
            return
        # Every person with a household has its row (the household rows are grouped from them): an
        # inner join, which DuckDB runs as a perfect hash join on dense keys (a left join it cannot),
        # and the persons without a household apart: not eligible, no criterion met, no amount.
        types: dict[str, m.ValueType] = {f"household__{n}": f.type for n, f in HOUSEHOLD.fields.items()}
        types |= {a.name: a.node.type for a in self.info.aggs.values()}
        joined: list[exp.Expr] = [exp.column(n, table="h") for n in [*view, *cols]]
        alone: list[exp.Expr] = [_as(_cast(exp.Null(), types[n]), n) for n in [*view, *cols]]
        for p in batch:
            joined += [exp.column(c(p.id), table="h") for c in (col_eligible, col_criteria, col_amount)]
            alone += [_as(exp.Boolean(this=False), col_eligible(p.id)),
                      _as(_cast(_int(0), "int"), col_criteria(p.id)),
                      _as(_cast(exp.Null(), "money"), col_amount(p.id))]
        with_household = exp.select(_all("p"), *joined, copy=False).from_(self.ref(self.person, "p"), copy=False).join(
            self.ref(self.household, "h"), on=_eq(exp.column(HID, table="p"), exp.column(HID, table="h")),
            join_type="inner", copy=False)
        without = exp.select(_all("p"), *alone, copy=False).from_(self.ref(self.person, "p"), copy=False).where(
            _is_null(exp.column(HID, table="p")), copy=False)
        self.person = self._add("tb_person", exp.union(with_household, without, distinct=False, copy=False))
        self.person_aggs |= {k for k, a in self.info.aggs.items() if a.name in cols}
        self.has_household_columns = True
        self.done |= {p.id for p in batch}

    def _evaluate(self, rows: str, batch: list[m.Policy], unit: m.Unit) -> str:
        """Parameters once per frame, then each dependency depth in two SELECT layers."""
        stem = "tb_person" if unit == "person" else "tb_household"
        region = "region_code" if unit == "person" else "household__region_code"
        used = regional_params(self.policies, batch, self.as_of)
        params = {name: f"__param{len(self.ctes)}_{name}" for name in used}  # a frame may be evaluated twice
        if params:
            rows = self._add(stem, self._lookup(rows, region, params))
        depth = depths(batch)
        for d in sorted(set(depth.values())):
            level = [p for p in batch if depth[p.id] == d]
            crit: list[exp.Expr] = []
            final: list[exp.Expr] = []
            for p in level:
                comp = self._compiler(p, params)
                tmp = [f"__{p.id}__c{i}" for i in range(len(p.criteria))]
                crit += [_as(exp.Coalesce(this=comp.expr(c.expr), expressions=[exp.Boolean(this=False)]), t)
                         for c, t in zip(p.criteria, tmp, strict=True)]
                bits: exp.Expression = _int(0)
                for i, t in enumerate(tmp):
                    bits = exp.Add(this=bits, expression=_case([(exp.column(t), _int(1 << i))], _int(0)))
                met = lambda tmp=tmp: _paren(exp.and_(*[exp.column(t) for t in tmp], copy=False))  # noqa: E731
                amount = (_case([(met(), _cast(comp.expr(p.amount), "money"))]) if p.amount is not None
                          else _cast(exp.Null(), "money"))
                final += [_as(_cast(bits, "int"), col_criteria(p.id)),
                          _as(met(), col_eligible(p.id)), _as(amount, col_amount(p.id))]
            rows = self._add(stem, exp.select(exp.Star(), *crit, copy=False).from_(self.ref(rows, "c"), copy=False))
            rows = self._add(stem, exp.select(exp.Star(), *final, copy=False).from_(self.ref(rows, "o"), copy=False))
        return rows

    def _lookup(self, rows: str, region: str, params: Mapping[str, str]) -> exp.Select:
        """The rows with a column per regional parameter: for each length of region prefix with
        values, a left join with a VALUES table (prefix, one column per parameter); the value is
        the longest prefix's, else the value everywhere (also where the region is unknown)."""
        tables = {name: self.policies.parameters[name].table_at(self.as_of) for name in params}
        types = {name: self.policies.parameters[name].type for name in params}
        lengths = sorted({len(k) for t in tables.values() for k in t if k}, reverse=True)
        q = exp.select(_all("f"), copy=False).from_(self.ref(rows, "f"), copy=False)
        for n in lengths:
            names = [name for name in params if any(len(k) == n for k in tables[name])]
            prefixes = sorted({k for name in names for k in tables[name] if len(k) == n})
            values = exp.Values(expressions=[
                exp.Tuple(expressions=[exp.Literal.string(k), *[literal(tables[name].get(k), types[name])
                                                                 for name in names]]) for k in prefixes],
                alias=exp.TableAlias(this=exp.to_identifier(f"r{n}"), columns=[
                    exp.to_identifier("prefix"), *[exp.to_identifier(f"v_{name}") for name in names]]))
            key = exp.Substring(this=exp.column(region, table="f"), start=_int(1), length=_int(n))
            q = q.join(values, on=_eq(key, exp.column("prefix", table=f"r{n}")), join_type="left", copy=False)
        for name, col in params.items():
            found: list[exp.Expression] = [exp.column(f"v_{name}", table=f"r{n}") for n in lengths
                                            if any(len(k) == n for k in tables[name])]
            if "" in tables[name]:
                found.append(literal(tables[name][""], types[name]))
            # an unknown (null) region joins no prefix: it gets the value everywhere, if there is one
            looked = found[0] if len(found) == 1 else exp.Coalesce(this=found[0], expressions=found[1:])
            q = q.select(_as(looked, col), copy=False)
        return q


def plan(policies: m.PolicySet, *, as_of: dt.date, sources: Mapping[str, exp.Expression],
         columns: list[str] | None = None, extra_columns: Sequence[str] = (),
         bound_previous: Collection[str] = ()) -> exp.Select:
    """One SELECT: a row per person with each policy's `__criteria`, `__eligible`, `__amount`
    (a household policy's outcome on each member's row; a person without a household: false,
    0, null).

    `sources` maps view names (person, household, optionally previous) to table expressions
    (a table, `read_parquet(...)`, a subquery). `columns` limits the view columns returned;
    `extra_columns` are further columns of the person source carried through to the result
    (as the Polars plan carries every column of the person frame); `bound_previous` are the
    previous-snapshot fields the person source already carries as `previous__<field>` (so
    `previous` is not joined for them)."""
    planner = _Planner(policies, as_of, sources, extra_columns, bound_previous)
    last = planner.build()
    out: list[str] = list(columns) if columns is not None else [
        *PERSON.fields, *(f"household__{n}" for n in HOUSEHOLD.fields)]
    out += [c for c in extra_columns if c not in out]
    for policy in policies.policies:
        out += [col_eligible(policy.id), col_criteria(policy.id), col_amount(policy.id)]
    q = exp.select(*[exp.column(c) for c in out], copy=False).from_(planner.ref(last, "r"), copy=False)
    for name, body in planner.ctes:
        q = q.with_(name, as_=body, copy=False)
    return q


def range_query(policies: m.PolicySet, *, sources: Mapping[str, exp.Expression],
                bound_previous: Collection[str] = ()) -> tuple[list[str], exp.Select] | None:
    """The boundary check in SQL (`views.check_range` on its answer): one row with the smallest
    and the largest value of each int and money column the policies read, labelled `view.field`
    (each label twice: minimum, then maximum). None when the policies read no such column."""
    labels: list[str] = []
    parts: list[exp.Select] = []
    for view, names in numbers_read(policies).items():
        cols: list[tuple[str, str]] = []  # (column, label)
        for n in sorted(names):
            if view == "previous" and n in bound_previous:
                cols.append((f"previous__{n}", f"previous.{n}"))
            elif view in sources:
                cols.append((n, f"{view}.{n}"))
        by_source: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for c, label in cols:
            by_source["person" if c.startswith("previous__") else view].append((c, label))
        for source, items in by_source.items():
            sel = exp.select(*[f(this=exp.column(c, table="s")) for c, _ in items for f in (exp.Min, exp.Max)],
                             copy=False).from_(exp.alias_(sources[source], "s", table=True, copy=True), copy=False)
            labels += [label for _, label in items for _ in (0, 1)]
            parts.append(sel)
    if not parts:
        return None
    q = exp.select(exp.Star(), copy=False).from_(parts[0].subquery("r0", copy=False), copy=False)
    for i, part in enumerate(parts[1:], 1):
        q = q.join(part.subquery(f"r{i}", copy=False), join_type="cross", copy=False)
    return labels, q


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
