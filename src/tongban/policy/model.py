"""The typed tree of a policy (政策即代码): what `parse.py` builds from YAML and what every
backend (reference evaluator, Polars, SQL) reads. Nodes are immutable Pydantic models with
a `kind` discriminator and a resolved `type`, so a backend never has to guess.

Value types: int, money (integer fen), bool, str, date. Every expression may be null
(missing data); see docs/policy.md for the semantics all backends implement.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

ValueType = Literal["int", "money", "bool", "str", "date"]
Unit = Literal["person", "household"]
Scope = Literal["person", "household", "previous"]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldRef(_Node):
    """A view field: `scope` person (the person, or the member inside a household aggregate),
    household (the household of the row) or previous (the person's previous snapshot)."""

    kind: Literal["field"] = "field"
    scope: Scope
    name: str
    type: ValueType


class Lit(_Node):
    """A typed literal; money is integer fen, a date a calendar date; None is a typed null."""

    kind: Literal["lit"] = "lit"
    type: ValueType
    value: int | bool | str | dt.date | None


class ParamRef(_Node):
    """A parameter's value in force for the subject's region on the as-of date."""

    kind: Literal["param"] = "param"
    name: str
    type: ValueType


class AsOf(_Node):
    """The as-of date of the evaluation (a calendar date in Asia/Shanghai)."""

    kind: Literal["as_of"] = "as_of"
    type: Literal["date"] = "date"


CompareOp = Literal["lt", "le", "gt", "ge", "eq", "ne"]
ArithOp = Literal["add", "sub", "mul", "div"]


class Compare(_Node):
    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Expr
    right: Expr
    type: Literal["bool"] = "bool"


class Arith(_Node):
    """+ - * on integers or fen, exact; `div` rounds half away from zero (四舍五入) to an
    integer and is null when the divisor is 0."""

    kind: Literal["arith"] = "arith"
    op: ArithOp
    left: Expr
    right: Expr
    type: ValueType


class In(_Node):
    """Membership in a list of literals (`negate` for `not in`)."""

    kind: Literal["in"] = "in"
    operand: Expr
    values: tuple[Lit, ...]
    negate: bool = False
    type: Literal["bool"] = "bool"


class And(_Node):
    kind: Literal["and"] = "and"
    items: tuple[Expr, ...]
    type: Literal["bool"] = "bool"


class Or(_Node):
    kind: Literal["or"] = "or"
    items: tuple[Expr, ...]
    type: Literal["bool"] = "bool"


class Not(_Node):
    kind: Literal["not"] = "not"
    item: Expr
    type: Literal["bool"] = "bool"


class AgeAt(_Node):
    """Completed years from `birth` to `at` (default: the as-of date). Born on 29 February:
    the year completes on 1 March in a common year."""

    kind: Literal["age_at"] = "age_at"
    birth: Expr
    at: Expr = AsOf()
    type: Literal["int"] = "int"


class DateDiff(_Node):
    """Days from `start` to `end` (end − start)."""

    kind: Literal["days_between"] = "days_between"
    start: Expr
    end: Expr
    type: Literal["int"] = "int"


class AddDays(_Node):
    kind: Literal["add_days"] = "add_days"
    date: Expr
    days: Expr
    type: Literal["date"] = "date"


class Call(_Node):
    """min / max (null if any argument is null), coalesce (first non-null), is_null."""

    kind: Literal["call"] = "call"
    name: Literal["min", "max", "coalesce", "is_null"]
    args: tuple[Expr, ...]
    type: ValueType


class Cond(_Node):
    """`then if test else otherwise`; a null test takes `otherwise`."""

    kind: Literal["cond"] = "cond"
    test: Expr
    then: Expr
    otherwise: Expr
    type: ValueType


class PolicyRef(_Node):
    """Another policy's outcome (eligible, never null) for the same person, or — when the
    referenced policy's unit is household — for the person's household."""

    kind: Literal["policy"] = "policy"
    policy: str
    unit: Unit  # the referenced policy's unit
    type: Literal["bool"] = "bool"


AggOp = Literal["count", "sum", "any", "all"]


class HouseholdAgg(_Node):
    """An aggregate over the members of the household: count (of members, or of those for
    whom `arg` is true), sum (null if any member's value is null), any / all (a null counts
    as not true)."""

    kind: Literal["household_agg"] = "household_agg"
    op: AggOp
    arg: Expr | None = None
    type: ValueType


Expr = Annotated[
    Union[FieldRef, Lit, ParamRef, AsOf, Compare, Arith, In, And, Or, Not, AgeAt, DateDiff, AddDays, Call,  # noqa: UP007
          Cond, PolicyRef, HouseholdAgg],
    Field(discriminator="kind"),
]


class Text(_Node):
    zh: str
    en: str


class Criterion(_Node):
    """One condition of a policy; bit i of the criteria bitmap is criterion i in declared order."""

    id: str
    description: Text
    expr: Expr
    source: str = ""  # the expression as written (for explanations)


class ParamValue(_Node):
    """A value in force from `start` (inclusive) for regions whose code starts with `region`
    ("" = everywhere)."""

    region: str
    start: dt.date
    value: int | bool | str | dt.date


class Parameter(_Node):
    id: str
    type: ValueType
    description: Text
    demo: bool = False  # a demo value, not the real local one
    values: tuple[ParamValue, ...]

    def value_at(self, region: str | None, as_of: dt.date) -> int | bool | str | dt.date | None:
        """The value in force: the longest region prefix of `region` with a value started by
        `as_of`, and of those the latest start. None when nothing applies. An unknown region
        (None) gets the value for everywhere (`*`): no region's own value applies to it."""
        best: ParamValue | None = None
        for v in self.values:
            if v.start > as_of or not (region or "").startswith(v.region):
                continue
            if best is None or (len(v.region), v.start) > (len(best.region), best.start):
                best = v
        return best.value if best is not None else None

    def table_at(self, as_of: dt.date) -> dict[str, int | bool | str | dt.date]:
        """Region prefix → value in force on `as_of` (what compilers turn into a lookup)."""
        out: dict[str, int | bool | str | dt.date] = {}
        for v in sorted(self.values, key=lambda v: v.start):
            if v.start <= as_of:
                out[v.region] = v.value
        return out


class Policy(_Node):
    """A policy as code: who may get a benefit, and how much."""

    id: str
    title: Text
    domain: str
    department: str
    legal_basis: str
    unit: Unit
    views: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    parameters: tuple[str, ...] = ()  # ids of the parameters it uses
    amount: Expr | None = None  # monthly amount in fen, where the benefit has one
    amount_source: str = ""
    benefit: str | None = None  # the enrolment benefit code
    apply_via: str | None = None  # item.<id> | onething.<id>
    demo: bool = False
    file: str = ""
    line: int | None = None

    @property
    def policy_refs(self) -> set[str]:
        found: set[str] = set()
        for c in self.criteria:
            _refs(c.expr, found)
        if self.amount is not None:
            _refs(self.amount, found)
        return found


class PolicySet(_Node):
    """Policies and the parameters they use, in dependency order (a policy after those it refers to)."""

    policies: tuple[Policy, ...]
    parameters: dict[str, Parameter]
    warnings: tuple[str, ...] = ()  # what loaded but may not mean what was meant (`policy check` prints it)

    def get(self, policy_id: str) -> Policy:
        for p in self.policies:
            if p.id == policy_id:
                return p
        raise KeyError(policy_id)

    def digests(self) -> dict[str, str]:
        """Policy id → SHA-256 of what decides its outcomes: its definition (not where it was
        written), the parameters it uses, and the digests of the policies it refers to."""
        import hashlib

        out: dict[str, str] = {}
        for p in self.policies:  # dependency order: a referred policy's digest is known first
            h = hashlib.sha256(p.model_dump_json(exclude={"file", "line"}).encode())
            for name in sorted(p.parameters):
                if name in self.parameters:
                    h.update(b"\0" + self.parameters[name].model_dump_json().encode())
            for ref in sorted(p.policy_refs):
                h.update(b"\0" + out[ref].encode())
            out[p.id] = h.hexdigest()
        return out

    def subset(self, ids: list[str] | None) -> PolicySet:
        """The named policies plus everything they refer to (all when `ids` is None)."""
        if ids is None:
            return self
        wanted: set[str] = set()
        stack = list(ids)
        while stack:
            pid = stack.pop()
            if pid not in wanted:
                wanted.add(pid)
                stack.extend(self.get(pid).policy_refs)
        return PolicySet(policies=tuple(p for p in self.policies if p.id in wanted), parameters=self.parameters,
                         warnings=self.warnings)


def children(node: Expr) -> list[Expr]:
    """The direct sub-expressions of a node."""
    match node:
        case Compare() | Arith():
            return [node.left, node.right]
        case In():
            return [node.operand]
        case And() | Or():
            return list(node.items)
        case Not():
            return [node.item]
        case AgeAt():
            return [node.birth, node.at]
        case DateDiff():
            return [node.start, node.end]
        case AddDays():
            return [node.date, node.days]
        case Call():
            return list(node.args)
        case Cond():
            return [node.test, node.then, node.otherwise]
        case HouseholdAgg():
            return [node.arg] if node.arg is not None else []
    return []


def walk(node: Expr) -> list[Expr]:
    """Every node of a tree, parents first."""
    out = [node]
    for c in children(node):
        out.extend(walk(c))
    return out


def _refs(node: Expr, found: set[str]) -> None:
    for n in walk(node):
        if isinstance(n, PolicyRef):
            found.add(n.policy)


for _m in (Compare, Arith, In, And, Or, Not, AgeAt, DateDiff, AddDays, Call, Cond, HouseholdAgg, Criterion, Policy):
    _m.model_rebuild()
