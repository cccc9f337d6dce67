"""The reference evaluator: the policy tree evaluated row by row in plain Python.

It is the definition the compiled backends are tested against, and what explains a single
case (each criterion with the values it compared). Slow by design: clarity over speed.
Semantics (docs/policy.md): null propagates through arithmetic and comparisons, and/or/not
follow three-valued (Kleene) logic, and a criterion is met only when it is true.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tongban.policy import model as m
from tongban.policy.analysis import numbers_read
from tongban.policy.views import check_range

Row = dict[str, Any]


def div_half_away(a: int, b: int) -> int | None:
    """a / b rounded half away from zero (四舍五入); None when b is 0."""
    if b == 0:
        return None
    q = (2 * abs(a) + abs(b)) // (2 * abs(b))
    return q if (a >= 0) == (b > 0) else -q


def age_at(birth: dt.date, at: dt.date) -> int:
    """Completed years; born on 29 February, the year completes on 1 March in a common year."""
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


@dataclass
class Population:
    """A snapshot as rows: persons, households and the previous person snapshot, by id."""

    persons: list[Row]
    households: dict[int, Row]
    previous: dict[int, Row]
    members: dict[int, list[Row]] = field(default_factory=dict)
    by_id: dict[int, Row] = field(default_factory=dict)  # persons by id: a lookup, not a scan per subject

    @classmethod
    def of(cls, persons: list[Row], households: list[Row], previous: list[Row] | None = None) -> Population:
        members: dict[int, list[Row]] = defaultdict(list)
        for p in persons:
            if p.get("household_id") is not None:
                members[p["household_id"]].append(p)
        return cls(persons, {h["id"]: h for h in households}, {p["id"]: p for p in previous or []}, dict(members),
                   {p["id"]: p for p in persons})


@dataclass
class _Row:
    """Where an expression is evaluated: a person (or a member inside an aggregate) and the household."""

    person: Row | None
    household: Row | None
    household_id: int | None
    region: str | None


@dataclass
class Outcome:
    eligible: bool
    criteria: int
    amount_fen: int | None


class Evaluator:
    """Evaluate a policy set over a population, as of a date (all subjects, in dependency order)."""

    def __init__(self, policies: m.PolicySet, population: Population, as_of: dt.date) -> None:
        self.policies = policies
        self.pop = population
        self.as_of = as_of
        self._check_ranges()
        self.outcomes: dict[str, dict[int, Outcome]] = {}
        for policy in policies.policies:
            self.outcomes[policy.id] = {sid: self._outcome(policy, row) for sid, row in self._subjects(policy)}

    def _check_ranges(self) -> None:
        """The boundary check every backend makes (`views.VALUE_LIMIT`): Python's integers would
        not overflow, but the definition refuses what the backends refuse."""
        rows = {"person": self.pop.persons, "household": list(self.pop.households.values()),
                "previous": list(self.pop.previous.values())}
        for view, names in numbers_read(self.policies).items():
            for n in sorted(names):
                values = [r[n] for r in rows[view] if r.get(n) is not None]
                if values:
                    check_range(f"{view}.{n}", min(values), max(values))

    def _subjects(self, policy: m.Policy) -> list[tuple[int, _Row]]:
        if policy.unit == "person":
            return [(p["id"], self._person_row(p)) for p in self.pop.persons]
        out = []
        for hid in sorted(self.pop.members):
            h = self.pop.households.get(hid)
            out.append((hid, _Row(None, h, hid, h.get("region_code") if h else None)))
        return out

    def _person_row(self, p: Row) -> _Row:
        hid = p.get("household_id")
        return _Row(p, self.pop.households.get(hid) if hid is not None else None, hid, p.get("region_code"))

    def _outcome(self, policy: m.Policy, row: _Row) -> Outcome:
        bits = 0
        for i, c in enumerate(policy.criteria):
            if self.value(c.expr, row, policy) is True:
                bits |= 1 << i
        eligible = bits == (1 << len(policy.criteria)) - 1
        amount = self.value(policy.amount, row, policy) if (eligible and policy.amount is not None) else None
        return Outcome(eligible, bits, amount)

    # --- expressions ----------------------------------------------------------------------

    def value(self, e: m.Expr, row: _Row, policy: m.Policy) -> Any:  # noqa: C901 - one case per node kind
        v = lambda x: self.value(x, row, policy)  # noqa: E731
        match e:
            case m.Lit():
                return e.value
            case m.AsOf():
                return self.as_of
            case m.FieldRef(scope="person"):
                return row.person.get(e.name) if row.person is not None else None
            case m.FieldRef(scope="household"):
                return row.household.get(e.name) if row.household is not None else None
            case m.FieldRef(scope="previous"):
                prev = self.pop.previous.get(row.person["id"]) if row.person is not None else None
                return prev.get(e.name) if prev is not None else None
            case m.ParamRef():
                # an unknown region: the value for everywhere (`*`) applies, no region's own value
                return self.policies.parameters[e.name].value_at(row.region, self.as_of)
            case m.Compare():
                a, b = v(e.left), v(e.right)
                if a is None or b is None:
                    return None
                return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b, "eq": a == b, "ne": a != b}[e.op]
            case m.Arith():
                a, b = v(e.left), v(e.right)
                if a is None or b is None:
                    return None
                if e.op == "div":
                    return div_half_away(a, b)
                return a + b if e.op == "add" else a - b if e.op == "sub" else a * b
            case m.In():
                a = v(e.operand)
                if a is None:
                    return None
                return (a in {x.value for x in e.values}) != e.negate
            case m.And():
                vals = [v(i) for i in e.items]
                return False if any(x is False for x in vals) else None if any(x is None for x in vals) else True
            case m.Or():
                vals = [v(i) for i in e.items]
                return True if any(x is True for x in vals) else None if any(x is None for x in vals) else False
            case m.Not():
                x = v(e.item)
                return None if x is None else not x
            case m.AgeAt():
                b, at = v(e.birth), v(e.at)
                return None if b is None or at is None else age_at(b, at)
            case m.DateDiff():
                s, t = v(e.start), v(e.end)
                return None if s is None or t is None else (t - s).days
            case m.AddDays():
                d, n = v(e.date), v(e.days)
                return None if d is None or n is None else d + dt.timedelta(days=n)
            case m.Call():
                vals = [v(a) for a in e.args]
                if e.name == "is_null":
                    return vals[0] is None
                if e.name == "coalesce":
                    return next((x for x in vals if x is not None), None)
                if any(x is None for x in vals):
                    return None
                return min(vals) if e.name == "min" else max(vals)
            case m.Cond():
                return v(e.then) if v(e.test) is True else v(e.otherwise)
            case m.PolicyRef():
                if e.unit == "person":
                    sid = row.person["id"] if row.person is not None else None
                else:
                    sid = row.household_id
                out = self.outcomes[e.policy].get(sid) if sid is not None else None
                return out.eligible if out is not None else False
            case m.HouseholdAgg():
                return self._agg(e, row, policy)
        raise TypeError(f"unknown node {e!r}")

    def _agg(self, e: m.HouseholdAgg, row: _Row, policy: m.Policy) -> Any:
        if row.household_id is None:
            return None
        members = self.pop.members.get(row.household_id, [])
        if e.arg is None:
            return len(members)
        vals = []
        for p in members:
            region = p.get("region_code") if policy.unit == "person" else row.region
            vals.append(self.value(e.arg, _Row(p, row.household, row.household_id, region), policy))
        if e.op == "sum":
            return None if any(x is None for x in vals) else sum(vals)
        if e.op == "count":
            return sum(1 for x in vals if x is True)
        if e.op == "any":
            return any(x is True for x in vals)
        return all(x is True for x in vals)

    # --- results ------------------------------------------------------------------------------

    def results(self, region: str | None = None) -> list[tuple[str, int, bool, int, int | None]]:
        """(policy, subject_id, eligible, criteria bitmap, amount) of the subjects in `region`."""
        out = []
        for policy in self.policies.policies:
            for sid, oc in self.outcomes[policy.id].items():
                if region and not self._region_of(policy, sid).startswith(region):
                    continue
                out.append((policy.id, sid, oc.eligible, oc.criteria, oc.amount_fen))
        return out

    def _region_of(self, policy: m.Policy, sid: int) -> str:
        if policy.unit == "person":
            return (self.pop.by_id.get(sid) or {}).get("region_code") or ""
        return (self.pop.households.get(sid) or {}).get("region_code") or ""


# --- explaining one case -------------------------------------------------------------------------


@dataclass
class Comparison:
    text: str  # the comparison as written, e.g. "household.vehicles == 0"
    actual: Any
    threshold: Any
    type: m.ValueType = "int"


@dataclass
class CriterionExplanation:
    id: str
    description: m.Text
    source: str
    met: bool
    value: Any  # True / False / None (unknown: a value was missing)
    comparisons: list[Comparison]


@dataclass
class Explanation:
    policy: m.Policy
    subject_id: int
    eligible: bool
    criteria: int
    amount_fen: int | None
    items: list[CriterionExplanation]


def explain(evaluator: Evaluator, policy_id: str, subject_id: int) -> Explanation:
    """Why a subject is (not) eligible: each criterion with the values it compared."""
    policy = evaluator.policies.get(policy_id)
    if policy.unit == "person":
        person = evaluator.pop.by_id.get(subject_id)
        if person is None:
            raise KeyError(subject_id)
        row = evaluator._person_row(person)
    else:
        if subject_id not in evaluator.pop.members:
            raise KeyError(subject_id)
        h = evaluator.pop.households.get(subject_id)
        row = _Row(None, h, subject_id, h.get("region_code") if h else None)
    oc = evaluator.outcomes[policy.id][subject_id]
    items = []
    for c in policy.criteria:
        val = evaluator.value(c.expr, row, policy)
        comps = [Comparison(render(n), evaluator.value(n.left, row, policy), evaluator.value(n.right, row, policy),
                            n.left.type) for n in _top_compares(c.expr)]
        items.append(CriterionExplanation(c.id, c.description, c.source, val is True, val, comps))
    return Explanation(policy, subject_id, oc.eligible, oc.criteria, oc.amount_fen, items)


def _top_compares(e: m.Expr) -> list[m.Compare]:
    """Comparisons of a criterion, not looking inside household aggregates."""
    if isinstance(e, m.Compare):
        return [e]
    if isinstance(e, m.HouseholdAgg):
        return []
    return [c for child in m.children(e) for c in _top_compares(child)]


_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "add": "+", "sub": "-",
        "mul": "*", "div": "/"}


def render(e: m.Expr) -> str:  # noqa: C901 - one case per node kind
    """An expression back as policy-language text (for explanations and test messages)."""
    match e:
        case m.Lit(type="money"):
            return "null" if e.value is None else f"fen({e.value})"
        case m.Lit(type="date"):
            return "null" if e.value is None else f'date("{e.value}")'
        case m.Lit():
            return "null" if e.value is None else repr(e.value)
        case m.AsOf():
            return "as_of"
        case m.FieldRef():
            return f"{e.scope}.{e.name}"
        case m.ParamRef():
            return f"param.{e.name}"
        case m.Compare() | m.Arith():
            return f"({render(e.left)} {_OPS[e.op]} {render(e.right)})"
        case m.In():
            return f"({render(e.operand)} {'not in' if e.negate else 'in'} [{', '.join(render(x) for x in e.values)}])"
        case m.And() | m.Or():
            return "(" + f" {e.kind} ".join(render(i) for i in e.items) + ")"
        case m.Not():
            return f"(not {render(e.item)})"
        case m.AgeAt():
            return f"age_at({render(e.birth)}, {render(e.at)})"
        case m.DateDiff():
            return f"days_between({render(e.start)}, {render(e.end)})"
        case m.AddDays():
            return f"add_days({render(e.date)}, {render(e.days)})"
        case m.Call():
            return f"{e.name}({', '.join(render(a) for a in e.args)})"
        case m.Cond():
            return f"({render(e.then)} if {render(e.test)} else {render(e.otherwise)})"
        case m.PolicyRef():
            return f"policy.{e.policy}"
        case m.HouseholdAgg():
            return f"household.{e.op}({render(e.arg) if e.arg is not None else ''})"
    raise TypeError(f"unknown node {e!r}")
