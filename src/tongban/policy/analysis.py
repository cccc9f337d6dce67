"""The analysis step of the policy compiler: parse → typed tree → **analysis** → Polars / SQL.

What both compilers need to know about a policy set before writing a plan, worked out once
here so `compile_polars` and `compile_sql` render the same decisions (as SQLGlot keeps its
optimizer apart from its generators): the distinct household aggregates and which policies
they wait for, the parameters and previous fields read, the policies' dependency depths, and
`age_at(birth) <op> N` turned into birth-date cutoffs. Nothing here knows a backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from tongban.policy import model as m

HID = "household_id"


def col_eligible(policy_id: str) -> str:
    return f"{policy_id}__eligible"


def col_criteria(policy_id: str) -> str:
    return f"{policy_id}__criteria"


def col_amount(policy_id: str) -> str:
    return f"{policy_id}__amount"


def trees(policy: m.Policy) -> list[m.Expr]:
    """The criteria's expressions and the amount's."""
    return [c.expr for c in policy.criteria] + ([policy.amount] if policy.amount is not None else [])


def policy_refs(node: m.Expr) -> set[str]:
    return {n.policy for n in m.walk(node) if isinstance(n, m.PolicyRef)}


def outside_aggs(node: m.Expr) -> Iterable[m.Expr]:
    """The nodes of a tree that are not inside a household aggregate (the aggregates included)."""
    yield node
    if not isinstance(node, m.HouseholdAgg):
        for c in m.children(node):
            yield from outside_aggs(c)


def outside_refs(policy: m.Policy) -> set[str]:
    """The policies a policy reads directly (not inside a household aggregate)."""
    return {n.policy for t in trees(policy) for n in outside_aggs(t) if isinstance(n, m.PolicyRef)}


def agg_key(policy: m.Policy, node: m.HouseholdAgg) -> str:
    """An aggregate's identity: its tree, and the policy's unit when it holds a parameter (whose
    region is each member's own in a person policy, the household's in a household policy); an
    aggregate without parameters means the same in a person and a household policy."""
    regional = any(isinstance(n, m.ParamRef) for n in m.walk(node))
    return (f"{policy.unit}:" if regional else "") + node.model_dump_json()


@dataclass
class Agg:
    name: str  # the column it is computed into
    node: m.HouseholdAgg
    policy: m.Policy  # compiled in this policy's context (its unit decides a parameter's region)
    needs: set[str]  # the policies whose outcomes it reads


@dataclass
class Analysis:
    """What the policy set reads: its distinct aggregates, parameters and previous fields."""

    aggs: dict[str, Agg] = field(default_factory=dict)  # agg_key → aggregate
    policy_aggs: dict[str, list[str]] = field(default_factory=dict)  # policy id → agg keys
    params: dict[m.Unit, set[str]] = field(default_factory=lambda: {"person": set(), "household": set()})
    previous: set[str] = field(default_factory=set)
    household_in_aggs: bool = False  # an aggregate reads household fields or the household's region

    @classmethod
    def of(cls, policies: m.PolicySet) -> Analysis:
        out = cls()
        for policy in policies.policies:
            keys: list[str] = []
            for tree in trees(policy):
                for node in outside_aggs(tree):
                    if isinstance(node, m.ParamRef):
                        out.params[policy.unit].add(node.name)
                    if not isinstance(node, m.HouseholdAgg):
                        continue
                    inner = m.walk(node)
                    regional = any(isinstance(n, m.ParamRef) for n in inner)
                    key = agg_key(policy, node)
                    if key not in out.aggs:
                        out.aggs[key] = Agg(f"__agg{len(out.aggs)}", node, policy, policy_refs(node))
                    if key not in keys:
                        keys.append(key)
                    if any(isinstance(n, m.FieldRef) and n.scope == "household" for n in inner) or (
                            regional and policy.unit == "household"):
                        out.household_in_aggs = True
            out.policy_aggs[policy.id] = keys
            for tree in trees(policy):
                out.previous |= {n.name for n in m.walk(tree) if isinstance(n, m.FieldRef) and n.scope == "previous"}
        return out

    def ready(self, policy: m.Policy, available: set[str], aggs: set[str]) -> bool:
        """Whether a policy can be evaluated once `available` policies and `aggs` aggregates are."""
        return outside_refs(policy) <= available and set(self.policy_aggs[policy.id]) <= aggs

    def batch(self, candidates: list[m.Policy], available: set[str], aggs: set[str]) -> list[m.Policy]:
        """The candidates (in dependency order) that can be evaluated now, one after another."""
        out, avail = [], set(available)
        for p in candidates:
            if self.ready(p, avail, aggs):
                out.append(p)
                avail.add(p.id)
        return out


def depths(batch: list[m.Policy]) -> dict[str, int]:
    """Dependency depth of each policy of a batch (1 + the deepest policy of the batch it reads):
    the policies of one depth are evaluated together."""
    out: dict[str, int] = {}
    for p in batch:
        out[p.id] = 1 + max((out[r] for r in outside_refs(p) if r in out), default=0)
    return out


def regional_params(policies: m.PolicySet, batch: list[m.Policy], as_of: dt.date) -> list[str]:
    """The parameters a batch reads outside aggregates that have a region-specific value in force
    on the as-of date (looked up once per frame into a column; the others are literals)."""
    return sorted({n.name for p in batch for t in trees(p) for n in outside_aggs(t)
                   if isinstance(n, m.ParamRef) and set(policies.parameters[n.name].table_at(as_of)) - {""}})


def int_constant(e: m.Expr, policies: m.PolicySet, as_of: dt.date) -> int | None:
    """An int literal, or a parameter with one value everywhere on the as-of date."""
    if isinstance(e, m.Lit) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, m.ParamRef):
        table = policies.parameters[e.name].table_at(as_of)
        value = table.get("")
        if set(table) == {""} and isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


@dataclass(frozen=True)
class AgeCutoffs:
    """`age_at(birth) <op> N` as birth-date tests: born on or before `born_by[0]` (and, for
    `eq`/`ne`, not on or before `born_by[1]`), negated when `negate`."""

    birth: m.Expr
    born_by: tuple[dt.date, ...]
    negate: bool


@dataclass(frozen=True)
class AgeBranches:
    """`age_at(birth) <op> (A if test else B)`: one age comparison per branch."""

    test: m.Expr
    then: m.Compare
    otherwise: m.Compare


def age_cutoffs(e: m.Compare, policies: m.PolicySet, as_of: dt.date) -> AgeCutoffs | AgeBranches | None:
    """`age_at(birth) <op> N` on the as-of date as a comparison of the birth date with the date
    N years before (29 February → 28 February in a common year): no calendar arithmetic per
    row, in any backend. None when the comparison is not of that form."""
    flip: dict[str, m.CompareOp] = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
    left, right, op = e.left, e.right, e.op
    if not isinstance(left, m.AgeAt):
        left, right, op = right, left, flip[op]
    if not isinstance(left, m.AgeAt) or not isinstance(left.at, m.AsOf):
        return None
    if isinstance(right, m.Cond):  # age ≥ (50 if man else 40)
        return AgeBranches(right.test, m.Compare(op=op, left=left, right=right.then),
                           m.Compare(op=op, left=left, right=right.otherwise))
    n = int_constant(right, policies, as_of)
    if n is None:
        return None
    if op in ("gt", "le"):  # age > n ⇔ age ≥ n + 1
        n, op = n + 1, ("ge" if op == "gt" else "lt")
    if not 2 <= as_of.year - n - 1 <= as_of.year - n <= 9998:
        return None  # a cutoff outside the calendar: the general formula

    def born_by(years: int) -> dt.date:  # age ≥ years ⇔ born on or before this date
        try:
            return as_of.replace(year=as_of.year - years)
        except ValueError:  # 29 February in a common year
            return dt.date(as_of.year - years, 2, 28)

    dates = (born_by(n),) if op in ("ge", "lt") else (born_by(n), born_by(n + 1))
    return AgeCutoffs(left.birth, dates, negate=op in ("lt", "ne"))


KEYS = frozenset({"id", "household_id"})  # identifiers: compared, never computed with


def numbers_read(policies: m.PolicySet) -> dict[str, set[str]]:
    """View → the int and money fields (keys aside) the policies read, derived fields expanded:
    the values that enter arithmetic, and so the ones whose range is checked at the boundary."""
    out: dict[str, set[str]] = {"person": set(), "household": set(), "previous": set()}
    for policy in policies.policies:
        for tree in trees(policy):
            for n in m.walk(tree):
                if isinstance(n, m.FieldRef) and n.type in ("int", "money") and n.name not in KEYS:
                    out[n.scope].add(n.name)
    return {view: names for view, names in out.items() if names}
