"""Hypothesis strategies: small populations full of edge cases, and random typed policy trees
over the view schemas (not only the demo policies)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tongban.policy import model as m
from tongban.policy.views import VALUE_LIMIT

REGIONS = ["330203001001", "330203004002", "330205001001", "330212000000", None]
AS_OF_DAYS = [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 6, 30), dt.date(2026, 7, 1),
              dt.date(2028, 2, 29)]
BIRTHS = [dt.date(1946, 2, 28), dt.date(1946, 3, 1), dt.date(1944, 2, 29), dt.date(2008, 2, 29),
          dt.date(2010, 7, 1), dt.date(2010, 6, 30), dt.date(1966, 7, 1), dt.date(1990, 12, 31)]

PARAMETERS = {
    "p_int": m.Parameter(id="p_int", type="int", description=m.Text(zh="整数", en="int"), values=(
        m.ParamValue(region="", start=dt.date(2025, 1, 1), value=18),
        m.ParamValue(region="3302", start=dt.date(2025, 1, 1), value=60),
        m.ParamValue(region="330203", start=dt.date(2026, 7, 1), value=80))),
    "p_money": m.Parameter(id="p_money", type="money", description=m.Text(zh="金额", en="money"), values=(
        m.ParamValue(region="3302", start=dt.date(2025, 1, 1), value=119500),
        m.ParamValue(region="330203", start=dt.date(2026, 3, 1), value=125500),
        m.ParamValue(region="330203004002", start=dt.date(2026, 1, 1), value=100000))),
    "p_date": m.Parameter(id="p_date", type="date", description=m.Text(zh="日期", en="date"), values=(
        m.ParamValue(region="", start=dt.date(2025, 1, 1), value=dt.date(2000, 1, 1)),)),
}

# Boundaries of the demo standards, the limit of the range policies compute in (views.VALUE_LIMIT)
# and the Int32 value DuckDB once doubled in 32 bits.
MONEY = st.one_of(st.sampled_from([0, 1, 99, 100, 119499, 119500, 119501, 125500, 300000]),
                  st.integers(-1000, 10_000_000),
                  st.sampled_from([VALUE_LIMIT, -VALUE_LIMIT, VALUE_LIMIT - 1, 2_000_000_001, -2_000_000_001]))


def _maybe(s: st.SearchStrategy[Any], p_null: float = 0.15) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), s) if p_null else s


@st.composite
def populations(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(persons, households, previous): households with 1–4 members, persons with no household,
    members of a household missing from the household view, nulls everywhere it is allowed."""
    n_households = draw(st.integers(1, 6))
    households, persons, previous = [], [], []
    pid = 1
    for hid in range(1, n_households + 1):
        region = draw(st.sampled_from(REGIONS))
        if draw(st.integers(0, 9)) > 0:  # one in ten households is missing from the household view
            households.append({"id": hid, "region_code": region,
                               "housing_area_m2": draw(_maybe(st.integers(0, 200))),
                               "vehicles": draw(_maybe(st.integers(0, 2))),
                               "assets": draw(_maybe(MONEY))})
        for _ in range(draw(st.integers(1, 4))):
            persons.append(draw(_person(pid, hid, region)))
            pid += 1
    for _ in range(draw(st.integers(0, 2))):
        persons.append(draw(_person(pid, None, draw(st.sampled_from(REGIONS)))))
        pid += 1
    for p in persons:
        if draw(st.booleans()):
            previous.append({**p, "income_monthly": draw(_maybe(MONEY)), "disability_grade": draw(
                _maybe(st.integers(1, 4), 0.5))})
    return persons, households, previous


@st.composite
def _person(draw: st.DrawFn, pid: int, hid: int | None, region: str | None) -> dict[str, Any]:
    return {
        "id": pid, "household_id": hid,
        "birth_date": draw(_maybe(st.one_of(st.sampled_from(BIRTHS),
                                            st.dates(dt.date(1920, 1, 1), dt.date(2026, 12, 31))))),
        "sex": draw(_maybe(st.sampled_from(["M", "F"]))),
        "region_code": region if draw(st.integers(0, 5)) else draw(st.sampled_from(REGIONS)),
        "hukou_region_code": draw(st.sampled_from(REGIONS)),
        "alive": draw(_maybe(st.booleans())),
        "marital_status": draw(st.sampled_from(["single", "married"])),
        "disability_type": None,
        "disability_grade": draw(_maybe(st.integers(1, 4), 0.5)),
        "employment_status": draw(_maybe(st.sampled_from(["employed", "unemployed", "retired"]))),
        "student_status": None,
        "is_student": draw(_maybe(st.booleans())),
        "income_monthly": draw(_maybe(MONEY)),
        "assets": draw(_maybe(MONEY)),
    }


# --- random policy trees --------------------------------------------------------------------

FIELDS: dict[str, dict[str, list[str]]] = {
    "person": {"int": ["disability_grade"], "money": ["income_monthly", "assets"], "bool": ["is_student", "alive"],
               "str": ["sex", "employment_status", "region_code"], "date": ["birth_date"]},
    "previous": {"int": ["disability_grade"], "money": ["income_monthly"], "bool": [], "str": [], "date": []},
    "household": {"int": ["housing_area_m2", "vehicles"], "money": ["assets"], "bool": [],
                  "str": ["region_code"], "date": []},
}
STR_VALUES = ["M", "F", "unemployed", "employed", "330203001001"]


@dataclass(frozen=True)
class Ctx:
    unit: m.Unit
    in_agg: bool
    policies: tuple[tuple[str, m.Unit], ...]  # policies defined earlier (refer only backwards)

    def scopes(self) -> list[str]:
        if self.in_agg or self.unit == "person":
            return ["person", "previous", "household"]
        return ["household"]


def _lit(draw: st.DrawFn, t: m.ValueType) -> m.Lit:
    if draw(st.integers(0, 12)) == 0:
        return m.Lit(type=t, value=None)
    value: Any
    if t == "int":
        value = draw(st.sampled_from([-3, 0, 1, 2, 3, 18, 60, 80, 100]))
    elif t == "money":
        value = draw(MONEY)
    elif t == "bool":
        value = draw(st.booleans())
    elif t == "str":
        value = draw(st.sampled_from(STR_VALUES))
    else:
        value = draw(st.sampled_from([*BIRTHS, *AS_OF_DAYS]))
    return m.Lit(type=t, value=value)


def _leaf(draw: st.DrawFn, t: m.ValueType, ctx: Ctx) -> m.Expr:
    options: list[m.Expr] = [_lit(draw, t)]
    for scope in ctx.scopes():
        options += [m.FieldRef(scope=scope, name=n, type=t) for n in FIELDS[scope][t]]  # type: ignore[arg-type]
    options += [m.ParamRef(name=p.id, type=t) for p in PARAMETERS.values() if p.type == t]
    if t == "date":
        options.append(m.AsOf())
    if t == "bool":
        for pid, unit in ctx.policies:
            if unit == "household" or ctx.in_agg or ctx.unit == "person":
                options.append(m.PolicyRef(policy=pid, unit=unit))
    return draw(st.sampled_from(options))


@st.composite
def exprs(draw: st.DrawFn, t: m.ValueType, ctx: Ctx, depth: int = 3) -> m.Expr:  # noqa: C901
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return _leaf(draw, t, ctx)
    sub = lambda tt, c=ctx: draw(exprs(tt, c, depth - 1))  # noqa: E731
    kinds = ["cond", "call"]
    if t in ("int", "money"):
        kinds += ["arith", "arith"]
    if t == "int":
        kinds += ["age", "days"]
    if t == "date":
        kinds += ["add_days"]
    if t == "bool":
        kinds += ["compare", "compare", "in", "andor", "not", "is_null"]
    if not ctx.in_agg and t in ("int", "money", "bool"):
        kinds += ["agg"]
    kind = draw(st.sampled_from(kinds))
    if kind == "cond":
        return m.Cond(test=sub("bool"), then=sub(t), otherwise=sub(t), type=t)
    if kind == "call":
        if t == "bool":
            return m.Call(name="coalesce", args=(sub("bool"), sub("bool")), type="bool")
        name = draw(st.sampled_from(["min", "max", "coalesce"] if t in ("int", "money", "date") else ["coalesce"]))
        return m.Call(name=name, args=(sub(t), sub(t)), type=t)
    if kind == "arith":
        if t == "int":
            op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
            if op == "div" and draw(st.booleans()):
                return m.Arith(op="div", left=sub("money"), right=sub("money"), type="int")
            if op == "mul":  # keep products far from 64-bit overflow: one factor is a small literal
                return m.Arith(op="mul", left=sub("int"), right=m.Lit(type="int", value=draw(st.integers(-3, 7))),
                               type="int")
            return m.Arith(op=op, left=sub("int"), right=sub("int"), type="int")
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        if op in ("add", "sub"):
            return m.Arith(op=op, left=sub("money"), right=sub("money"), type="money")
        small = m.Lit(type="int", value=draw(st.sampled_from([-2, 0, 1, 2, 3, 7])))
        if op == "mul":
            return m.Arith(op="mul", left=sub("money"), right=small, type="money")
        return m.Arith(op="div", left=sub("money"), right=draw(st.sampled_from([small, sub("int")])), type="money")
    if kind == "age":
        return m.AgeAt(birth=sub("date"), at=draw(st.sampled_from([m.AsOf(), sub("date")])))
    if kind == "days":
        return m.DateDiff(start=sub("date"), end=sub("date"))
    if kind == "add_days":
        return m.AddDays(date=sub("date"), days=m.Lit(type="int", value=draw(st.integers(-800, 800))))
    if kind == "compare":
        tt = draw(st.sampled_from(["int", "money", "date", "str", "bool"]))
        ops = ["eq", "ne"] if tt in ("str", "bool") else ["lt", "le", "gt", "ge", "eq", "ne"]
        return m.Compare(op=draw(st.sampled_from(ops)), left=sub(tt), right=sub(tt))
    if kind == "in":
        tt = draw(st.sampled_from(["int", "str"]))
        vals = tuple(m.Lit(type=tt, value=v) for v in draw(st.lists(
            st.sampled_from([1, 2, 3, 4] if tt == "int" else STR_VALUES), min_size=1, max_size=3, unique=True)))
        return m.In(operand=sub(tt), values=vals, negate=draw(st.booleans()))
    if kind == "andor":
        items = tuple(sub("bool") for _ in range(draw(st.integers(2, 3))))
        return m.And(items=items) if draw(st.booleans()) else m.Or(items=items)
    if kind == "not":
        return m.Not(item=sub("bool"))
    if kind == "is_null":
        return m.Call(name="is_null", args=(sub(draw(st.sampled_from(["int", "money", "date", "bool"]))),),
                      type="bool")
    # household aggregate over members
    inner = Ctx(ctx.unit, True, ctx.policies)
    if t == "money":
        return m.HouseholdAgg(op="sum", arg=draw(exprs("money", inner, depth - 1)), type="money")
    if t == "int":
        if draw(st.booleans()):
            return m.HouseholdAgg(op="count", type="int")
        return m.HouseholdAgg(op="count", arg=draw(exprs("bool", inner, depth - 1)), type="int")
    return m.HouseholdAgg(op=draw(st.sampled_from(["any", "all"])), arg=draw(exprs("bool", inner, depth - 1)),
                          type="bool")


@st.composite
def policy_sets(draw: st.DrawFn) -> m.PolicySet:
    policies: list[m.Policy] = []
    for k in range(draw(st.integers(1, 3))):
        unit: m.Unit = draw(st.sampled_from(["person", "household"]))
        ctx = Ctx(unit, False, tuple((p.id, p.unit) for p in policies))
        criteria = tuple(m.Criterion(id=f"c{i}", description=m.Text(zh="条件", en="criterion"),
                                     expr=draw(exprs("bool", ctx)))
                         for i in range(draw(st.integers(1, 3))))
        amount = draw(st.one_of(st.none(), exprs("money", ctx)))
        policies.append(m.Policy(id=f"p{k}", title=m.Text(zh="政策", en="policy"), domain="test",
                                 department="dept.test", legal_basis="test", unit=unit,
                                 views=("person", "household", "previous"), criteria=criteria, amount=amount))
    return m.PolicySet(policies=tuple(policies), parameters=PARAMETERS)
