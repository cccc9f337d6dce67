"""YAML policy files → the typed tree (`model.py`), refusing errors with file, line, policy
and criterion.

Expressions are written in a small Python-like language (`age_at(birth_date) >= 80`,
`household.income_per_capita_monthly < param.dibao_standard`, `not policy.dibao`). The text
is parsed with `ast.parse(mode="eval")` and only a whitelist of node shapes is accepted;
nothing is ever evaluated. Types are checked against the view schemas (`views.py`).
"""

from __future__ import annotations

import ast
import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, ValidationError

from tongban.core.packs.loader import Document, Pack, PackError, PackFile, Problem, parse_yaml
from tongban.core.packs.models import Defines, PackModel, RefersTo, SectionFile, StableId, Text
from tongban.policy import model as m
from tongban.policy.views import HOUSEHOLD_DERIVED, VIEWS

log = logging.getLogger(__name__)

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
PolicyName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def _expression(value: Any) -> Any:
    """An expression is text; YAML reads `amount: 5` as a number and `expr: true` as a boolean."""
    if isinstance(value, bool):
        return str(value).lower()  # `true` / `false` are the language's own literals
    if isinstance(value, int | float):
        raise ValueError(f"{value!r} is a bare number: an expression is text in the policy language, and money "
                         f"is written yuan({value}) or fen({value})")
    if value is not None and not isinstance(value, str):
        raise ValueError("an expression is one line or block of text in the policy language")
    return value


Expression = Annotated[str, BeforeValidator(_expression)]


def _str_code(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# --- the file format (validated by the pack loader) ------------------------------------------


class ParamValueDecl(PackModel):
    region: Annotated[str, BeforeValidator(_str_code), StringConstraints(pattern=r"^(\*|\d{2,12})$")] = "*"
    start: dt.date = Field(alias="from")
    value: Any


class ParameterDecl(PackModel):
    id: Annotated[PolicyName, Defines("policy_parameter")]
    type: m.ValueType
    description: Text
    demo: bool = False
    values: list[ParamValueDecl] = Field(min_length=1)


class CriterionDecl(PackModel):
    id: StableId
    description: Text
    expr: Expression


class PolicyDecl(PackModel):
    id: Annotated[PolicyName, Defines("policy")]
    title: Text
    domain: str
    department: Annotated[str, RefersTo("department")]
    legal_basis: str = Field(min_length=2)
    unit: m.Unit
    views: list[Literal["person", "household", "previous"]] = Field(min_length=1)
    criteria: list[CriterionDecl] = Field(min_length=1)
    amount: Expression | None = None
    benefit: StableId | None = None
    apply_via: Annotated[str, StringConstraints(pattern=r"^(item|onething)\.[a-z].*$")] | None = None
    demo: bool = False


class PolicyFile(SectionFile):
    parameters: list[ParameterDecl] = []
    policies: list[PolicyDecl] = []


# --- errors -------------------------------------------------------------------------------


class _ExprError(Exception):
    def __init__(self, message: str, node: ast.AST | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = getattr(node, "lineno", None)
        self.col = getattr(node, "col_offset", None)


@dataclass
class Source:
    """One policy file as read: its validated model and where each key sits."""

    path: str
    document: Document
    model: PolicyFile
    text: str | None = None  # the file as written, to point into a multi-line expression

    def problem(self, path: tuple[str | int, ...], message: str, id: str | None,
                offset: tuple[int | None, int | None] = (None, None), expr: str | None = None) -> Problem:
        """A problem at `path`; inside an expression (`expr`, as read from YAML) at `offset`
        (line and column in the stripped expression, as `ast` gives them), at that place of the
        file: the expression's own line, not its key's."""
        mark = self.document.mark(path)
        line, col = (mark if mark else (None, None))
        if mark is not None and expr is not None and offset[0] is not None and self.text is not None:
            found = _position_in_file(self.text, mark, expr, offset[0], offset[1])
            if found is not None:
                line, col = found
        return Problem(self.path, line, col, id, message)


def _position_in_file(text: str, key: tuple[int, int], expr: str, line: int,
                      col: int | None) -> tuple[int, int | None] | None:
    """Where (line, col) of an expression lies in the file, the expression being the value of
    the key at `key` (1-based line and column). YAML folds a plain or `>` scalar's lines and
    strips a block's indentation, so positions are matched by counting the characters that are
    not white space: the n-th of the expression is the n-th after the key's colon (a block
    indicator line or an opening quote skipped)."""
    stripped = expr.strip()
    rows = stripped.split("\n")
    if not 1 <= line <= len(rows):
        return None
    start = sum(len(r) + 1 for r in rows[:line - 1])
    if col is not None:  # ast counts UTF-8 bytes; the file is read in characters
        start += len(rows[line - 1].encode("utf-8")[:col].decode("utf-8", errors="ignore"))
    before = sum(1 for ch in stripped[:start] if not ch.isspace())
    lines = text.split("\n")
    y, x = key[0] - 1, key[1] - 1
    if y >= len(lines):
        return None
    colon = lines[y].find(":", x)
    if colon < 0:
        return None
    x = colon + 1
    rest = lines[y][x:].strip()
    if rest[:1] in ("|", ">"):  # a block scalar: the expression starts on the next line
        y, x = y + 1, 0
    elif rest[:1] in ("'", '"'):
        x = lines[y].index(rest[0], x) + 1
    seen = 0
    while y < len(lines):
        row = lines[y]
        while x < len(row):
            if not row[x].isspace():
                if seen == before:
                    return y + 1, (x + 1 if col is not None else None)
                seen += 1
            x += 1
        y, x = y + 1, 0
    return None


# --- expressions ----------------------------------------------------------------------------

_CMP: dict[type[ast.cmpop], m.CompareOp] = {
    ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq", ast.NotEq: "ne"}
_ARITH: dict[type[ast.operator], m.ArithOp] = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}
_ORDERED = {"int", "money", "date"}  # text is not ordered: collations differ between databases

# The functions of the language (docs/policy.md), each with how it is called: the parser accepts
# these names and no other, and the Spark agreement test needs a case for each.
FUNCTIONS: dict[str, str] = {
    "yuan": "yuan(1195.50): money from yuan",
    "fen": "fen(119550): money from fen",
    "date": 'date("2026-07-01"): a date',
    "age_at": "age_at(birth_date[, date]): completed years",
    "days_between": "days_between(start, end): days from start to end",
    "add_days": "add_days(date, days): a date days later",
    "min": "min(a, b, …): the smallest (null if any is)",
    "max": "max(a, b, …): the largest (null if any is)",
    "coalesce": "coalesce(a, b, …): the first that is not null",
    "is_null": "is_null(x): whether x is missing",
}
# The household aggregates, written household.<name>(…).
AGGREGATES: dict[str, str] = {
    "count": "household.count([condition]): members (for whom the condition is true)",
    "sum": "household.sum(x): the members' total (null if any member's is)",
    "any": "household.any(condition): true for some member",
    "all": "household.all(condition): true for every member",
}


def money_fen(value: Any) -> int:
    """Yuan (a number or a decimal string) → integer fen, refusing fractions of a fen."""
    if isinstance(value, bool):
        raise ValueError("a money amount must be a number of yuan")
    try:
        d = Decimal(str(value)) * 100
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of yuan") from None
    if d != d.to_integral_value():
        raise ValueError(f"{value!r} yuan is not a whole number of fen")
    return int(d)


def typed_value(t: m.ValueType, value: Any) -> int | bool | str | dt.date:
    """A parameter value from YAML, in the parameter's type (money given in yuan)."""
    if t == "money":
        return money_fen(value)
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer")
        return value
    if t == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if t == "date":
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))
    return str(value)


@dataclass
class _Context:
    unit: m.Unit
    views: set[str]
    policies: dict[str, m.Unit]
    parameters: dict[str, m.ValueType]
    in_agg: bool = False
    used_params: set[str] = field(default_factory=set)

    @property
    def row(self) -> m.Unit:
        """Whose fields a bare name means: the person (or the member inside an aggregate)."""
        return "person" if self.in_agg or self.unit == "person" else "household"


def parse_expr(text: str, ctx: _Context) -> m.Expr:
    """Parse one expression of the policy language into a typed tree (raises _ExprError)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        err = _ExprError(f"syntax error: {exc.msg}")
        err.line, err.col = exc.lineno, (exc.offset - 1 if exc.offset else None)
        raise err from None
    return _Builder(ctx).build(tree.body)


class _Builder:
    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx

    def build(self, node: ast.expr) -> m.Expr:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise _ExprError(f"{type(node).__name__.lower()} expressions are not part of the policy language", node)
        result: m.Expr = method(node)
        return result

    # literals and names

    def _Constant(self, node: ast.Constant) -> m.Expr:
        v = node.value
        if v is None:
            return m.Lit(type="int", value=None)  # typed by its use (see _unify)
        if isinstance(v, bool):
            return m.Lit(type="bool", value=v)
        if isinstance(v, int):
            return m.Lit(type="int", value=v)
        if isinstance(v, str):
            return m.Lit(type="str", value=v)
        if isinstance(v, float):
            raise _ExprError("no fractional numbers: write money as yuan(12.50) and keep other numbers whole", node)
        raise _ExprError(f"unsupported literal {v!r}", node)

    def _Name(self, node: ast.Name) -> m.Expr:
        if node.id == "as_of":
            return m.AsOf()
        if node.id in ("true", "false"):
            return m.Lit(type="bool", value=node.id == "true")
        return self._field(self.ctx.row, node.id, node)

    def _Attribute(self, node: ast.Attribute) -> m.Expr:
        if not isinstance(node.value, ast.Name):
            raise _ExprError("write a field as view.field (person.birth_date, household.vehicles)", node)
        scope, name = node.value.id, node.attr
        if scope == "param":
            if name not in self.ctx.parameters:
                raise _ExprError(f"unknown parameter {name!r}", node)
            self.ctx.used_params.add(name)
            return m.ParamRef(name=name, type=self.ctx.parameters[name])
        if scope == "policy":
            return self._policy(name, node)
        if scope in ("person", "household", "previous"):
            return self._field(scope, name, node)
        raise _ExprError(f"unknown name {scope!r} (use person., household., previous., param. or policy.)", node)

    def _field(self, scope: str, name: str, node: ast.AST) -> m.Expr:
        if scope == "household" and name in HOUSEHOLD_DERIVED:
            if "household" not in self.ctx.views:
                raise _ExprError("the policy does not bind the household view (add it to views)", node)
            if self.ctx.in_agg:
                raise _ExprError("a household aggregate cannot be used inside another", node)
            return _Builder(self.ctx).build(ast.parse(HOUSEHOLD_DERIVED[name][0], mode="eval").body)
        if scope == "person" and self.ctx.row == "household":
            raise _ExprError(f"person field {name!r} in a household policy: use it inside household.any/all/"
                             "count/sum", node)
        if scope == "previous" and self.ctx.row == "household":
            raise _ExprError("previous fields are per person: use them inside household.sum(...)", node)
        if scope not in self.ctx.views:
            raise _ExprError(f"the policy does not bind the {scope} view (add it to views)", node)
        t = VIEWS[scope].type_of(name)
        if t is None:
            known = ", ".join(sorted([*VIEWS[scope].fields, *(HOUSEHOLD_DERIVED if scope == "household" else [])]))
            raise _ExprError(f"the {scope} view has no field {name!r} (it has: {known})", node)
        return m.FieldRef(scope=scope, name=name, type=t)  # type: ignore[arg-type]

    def _policy(self, name: str, node: ast.AST) -> m.Expr:
        unit = self.ctx.policies.get(name)
        if unit is None:
            raise _ExprError(f"unknown policy {name!r}", node)
        if unit == "person" and self.ctx.row == "household":
            raise _ExprError(f"{name!r} is a person policy: in a household policy use household.any(policy.{name})",
                             node)
        return m.PolicyRef(policy=name, unit=unit)

    # operators

    def _BoolOp(self, node: ast.BoolOp) -> m.Expr:
        items = tuple(self._bool(v) for v in node.values)
        return m.And(items=items) if isinstance(node.op, ast.And) else m.Or(items=items)

    def _bool(self, node: ast.expr) -> m.Expr:
        e = self.build(node)
        if e.type != "bool":
            raise _ExprError(f"expected a true/false condition, found a {_tname(e.type)}", node)
        return e

    def _UnaryOp(self, node: ast.UnaryOp) -> m.Expr:
        if isinstance(node.op, ast.Not):
            return m.Not(item=self._bool(node.operand))
        if isinstance(node.op, ast.USub):
            inner = self.build(node.operand)
            if isinstance(inner, m.Lit) and inner.type == "int" and isinstance(inner.value, int):
                return m.Lit(type="int", value=-inner.value)
            if inner.type not in ("int", "money"):
                raise _ExprError("only numbers can be negated", node)
            return m.Arith(op="sub", left=m.Lit(type=inner.type, value=0), right=inner, type=inner.type)
        raise _ExprError("unsupported operator", node)

    def _BinOp(self, node: ast.BinOp) -> m.Expr:
        op = _ARITH.get(type(node.op))
        if op is None:
            raise _ExprError("only + - * / are allowed (division rounds half away from zero)", node)
        left, right = self.build(node.left), self.build(node.right)
        lt, rt = left.type, right.type
        table: dict[tuple[str, str, str], m.ValueType] = {
            ("add", "int", "int"): "int", ("sub", "int", "int"): "int", ("mul", "int", "int"): "int",
            ("div", "int", "int"): "int", ("add", "money", "money"): "money", ("sub", "money", "money"): "money",
            ("mul", "money", "int"): "money", ("mul", "int", "money"): "money", ("div", "money", "int"): "money",
            ("div", "money", "money"): "int",
        }
        t = table.get((op, lt, rt))
        if t is None:
            raise _ExprError(f"cannot {op} a {_tname(lt)} and a {_tname(rt)} "
                             "(money is in fen: write yuan(…) for amounts; dates use add_days/days_between)", node)
        return m.Arith(op=op, left=left, right=right, type=t)

    def _Compare(self, node: ast.Compare) -> m.Expr:
        items: list[m.Expr] = []
        left = self.build(node.left)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                items.append(self._in(left, comp, isinstance(op, ast.NotIn), node))
                left = self.build(comp) if not isinstance(comp, (ast.List, ast.Tuple, ast.Set)) else left
                continue
            cop = _CMP.get(type(op))
            if cop is None:
                raise _ExprError("use == and != (not `is`)", node)
            right = self.build(comp)
            a, b = _unify(left, right, node)
            if cop not in ("eq", "ne") and a.type not in _ORDERED:
                raise _ExprError(f"a {_tname(a.type)} cannot be ordered with < or >", node)
            items.append(m.Compare(op=cop, left=a, right=b))
            left = right
        return items[0] if len(items) == 1 else m.And(items=tuple(items))

    def _in(self, operand: m.Expr, comp: ast.expr, negate: bool, node: ast.AST) -> m.Expr:
        if not isinstance(comp, (ast.List, ast.Tuple, ast.Set)):
            raise _ExprError("`in` takes a list of values: x in [1, 2]", node)
        values: list[m.Lit] = []
        for elt in comp.elts:
            v = self.build(elt)
            if not isinstance(v, m.Lit) or v.value is None:
                raise _ExprError("the list after `in` holds literal values only (no null)", elt)
            v, _ = _unify(v, operand, elt)
            if v.type != operand.type:
                raise _ExprError(f"a {_tname(v.type)} in a list compared with a {_tname(operand.type)}", elt)
            values.append(v)  # type: ignore[arg-type]
        if not values:
            raise _ExprError("the list after `in` is empty", node)
        return m.In(operand=operand, values=tuple(values), negate=negate)

    def _IfExp(self, node: ast.IfExp) -> m.Expr:
        test = self._bool(node.test)
        a, b = _unify(self.build(node.body), self.build(node.orelse), node)
        if a.type != b.type:
            raise _ExprError(f"both branches must have one type, not {_tname(a.type)} and {_tname(b.type)}", node)
        return m.Cond(test=test, then=a, otherwise=b, type=a.type)

    def _Call(self, node: ast.Call) -> m.Expr:
        if node.keywords:
            raise _ExprError("functions take positional arguments only", node)
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "household":
            return self._agg(f.attr, node)
        if not isinstance(f, ast.Name):
            raise _ExprError("unknown function", node)
        name, args = f.id, node.args
        if name not in FUNCTIONS:
            raise _ExprError(f"unknown function {name!r} (the language has {', '.join(FUNCTIONS)})", node)
        if name in ("yuan", "fen", "date"):
            if len(args) != 1 or not isinstance(args[0], ast.Constant) or isinstance(args[0].value, bool):
                raise _ExprError(f"{name}(…) takes one literal value", node)
            raw = args[0].value
            try:
                if name == "yuan":
                    return m.Lit(type="money", value=money_fen(raw))
                if name == "fen":
                    if not isinstance(raw, int):
                        raise ValueError("fen(…) takes a whole number")
                    return m.Lit(type="money", value=raw)
                return m.Lit(type="date", value=dt.date.fromisoformat(str(raw)))
            except ValueError as exc:
                raise _ExprError(str(exc), node) from None
        built = [self.build(a) for a in args]
        if name == "age_at":
            if len(built) not in (1, 2) or any(b.type != "date" for b in built):
                raise _ExprError("age_at(birth_date[, date]) takes dates", node)
            return m.AgeAt(birth=built[0], at=built[1] if len(built) == 2 else m.AsOf())
        if name == "days_between":
            if len(built) != 2 or any(b.type != "date" for b in built):
                raise _ExprError("days_between(start, end) takes two dates", node)
            return m.DateDiff(start=built[0], end=built[1])
        if name == "add_days":
            if len(built) != 2 or built[0].type != "date" or built[1].type != "int":
                raise _ExprError("add_days(date, days) takes a date and a whole number", node)
            return m.AddDays(date=built[0], days=built[1])
        if name == "is_null":
            if len(built) != 1:
                raise _ExprError("is_null(x) takes one argument", node)
            return m.Call(name="is_null", args=tuple(built), type="bool")
        if name in ("min", "max", "coalesce"):
            if len(built) < 2:
                raise _ExprError(f"{name}(…) takes two or more arguments", node)
            typed = _unify_all(built, node)
            if name != "coalesce" and typed[0].type not in ("int", "money", "date"):
                raise _ExprError(f"{name}(…) takes numbers, money or dates", node)
            return m.Call(name=name, args=tuple(typed), type=typed[0].type)  # type: ignore[arg-type]
        raise _ExprError(f"unknown function {name!r}", node)

    def _agg(self, op: str, node: ast.Call) -> m.Expr:
        if op not in AGGREGATES:
            raise _ExprError(f"unknown household aggregate {op!r} ({', '.join(AGGREGATES)})", node)
        if "household" not in self.ctx.views:
            raise _ExprError("the policy does not bind the household view (add it to views)", node)
        if self.ctx.in_agg:
            raise _ExprError("a household aggregate cannot be used inside another", node)
        if len(node.args) > 1 or (op != "count" and len(node.args) != 1):
            raise _ExprError(f"household.{op}(…) takes one expression about a member", node)
        if not node.args:
            return m.HouseholdAgg(op="count", type="int")
        inner = _Builder(_Context(self.ctx.unit, self.ctx.views | {"person"}, self.ctx.policies,
                                  self.ctx.parameters, in_agg=True, used_params=self.ctx.used_params))
        arg = inner.build(node.args[0])
        if op == "sum":
            if arg.type not in ("int", "money"):
                raise _ExprError("household.sum(…) adds numbers or money", node)
            return m.HouseholdAgg(op="sum", arg=arg, type=arg.type)
        if arg.type != "bool":
            raise _ExprError(f"household.{op}(…) takes a true/false condition", node)
        return m.HouseholdAgg(op=op, arg=arg, type="int" if op == "count" else "bool")  # type: ignore[arg-type]


def _tname(t: str) -> str:
    return {"int": "number", "money": "money amount", "bool": "condition", "str": "text", "date": "date"}[t]


def _unify(a: m.Expr, b: m.Expr, node: ast.AST) -> tuple[m.Expr, m.Expr]:
    """Give an untyped null literal the other side's type; refuse mixed types."""
    if isinstance(a, m.Lit) and a.value is None:
        a = m.Lit(type=b.type, value=None)
    if isinstance(b, m.Lit) and b.value is None:
        b = m.Lit(type=a.type, value=None)
    if a.type != b.type:
        hint = " (money is in fen: compare it with yuan(…), fen(…) or another amount)" if "money" in (
            a.type, b.type) else ""
        raise _ExprError(f"cannot compare a {_tname(a.type)} with a {_tname(b.type)}{hint}", node)
    return a, b


def _unify_all(items: list[m.Expr], node: ast.AST) -> list[m.Expr]:
    typed = next((i for i in items if not (isinstance(i, m.Lit) and i.value is None)), items[0])
    return [_unify(i, typed, node)[0] for i in items]


# --- files → policy set ---------------------------------------------------------------------


def _pid(policy: str, criterion: str | None = None) -> str:
    return f"{policy}#{criterion}" if criterion else policy


def build(sources: list[Source], *, pack: Pack | None = None) -> tuple[m.PolicySet | None, list[Problem]]:
    """Typed policies from validated files; problems carry file, line and policy#criterion."""
    problems: list[Problem] = []
    parameters: dict[str, m.Parameter] = {}
    problems += _duplicates(sources)  # a pack's loader refuses them before; loose files here
    warnings: list[str] = []
    for src in sources:
        for i, pd in enumerate(src.model.parameters):
            values: list[m.ParamValue] = []
            for j, v in enumerate(pd.values):
                try:
                    values.append(m.ParamValue(region="" if v.region == "*" else v.region, start=v.start,
                                               value=typed_value(pd.type, v.value)))
                except ValueError as exc:
                    problems.append(src.problem(("parameters", i, "values", j, "value"), str(exc), pd.id))
            seen = {(v.region, v.start) for v in values}
            if len(seen) != len(values):
                problems.append(src.problem(("parameters", i, "values"), "two values for one region and date", pd.id))
            parameters[pd.id] = m.Parameter(id=pd.id, type=pd.type, description=m.Text(**pd.description.model_dump()),
                                            demo=pd.demo, values=tuple(values))
            gap = _coverage_gap(parameters[pd.id])
            if gap:
                warnings.append(str(src.problem(("parameters", i, "values"), gap, pd.id)))
    decls = [(src, i, p) for src in sources for i, p in enumerate(src.model.policies)]
    units = {p.id: p.unit for _, _, p in decls}
    ptypes = {k: v.type for k, v in parameters.items()}
    policies: dict[str, m.Policy] = {}
    for src, i, p in decls:
        ok = True
        views: set[str] = set(p.views)
        if p.unit == "household" and "household" not in views:
            problems.append(src.problem(("policies", i, "views"), "a household policy binds the household view", p.id))
            ok = False
        used: set[str] = set()
        criteria: list[m.Criterion] = []
        for j, c in enumerate(p.criteria):
            ctx = _Context(p.unit, views, units, ptypes, used_params=used)
            try:
                e = parse_expr(c.expr, ctx)
                if e.type != "bool":
                    raise _ExprError(f"a criterion is a true/false condition, not a {_tname(e.type)}")
                criteria.append(m.Criterion(id=c.id, description=m.Text(**c.description.model_dump()), expr=e,
                                            source=c.expr.strip()))
            except _ExprError as exc:
                problems.append(src.problem(("policies", i, "criteria", j, "expr"), exc.message,
                                            _pid(p.id, c.id), (exc.line, exc.col), c.expr))
                ok = False
        ids = [c.id for c in p.criteria]
        for j, cid in enumerate(ids):
            if cid in ids[:j]:
                problems.append(src.problem(("policies", i, "criteria", j, "id"), f"criterion {cid!r} appears twice",
                                            _pid(p.id, cid)))
                ok = False
        if len(ids) > 62:
            problems.append(src.problem(("policies", i, "criteria"), "at most 62 criteria (the bitmap is 64-bit)", p.id))
            ok = False
        amount: m.Expr | None = None
        if p.amount is not None:
            try:
                amount = parse_expr(p.amount, _Context(p.unit, views, units, ptypes, used_params=used))
                if amount.type != "money":
                    raise _ExprError(f"the amount is money, not a {_tname(amount.type)}")
            except _ExprError as exc:
                problems.append(src.problem(("policies", i, "amount"), exc.message, _pid(p.id, "amount"),
                                            (exc.line, exc.col), p.amount))
                ok = False
        if p.apply_via is not None and pack is not None:
            kind = p.apply_via.partition(".")[0]  # item ids read item.…, one-thing ids onething.…
            if pack.get(kind, p.apply_via) is None:
                problems.append(src.problem(("policies", i, "apply_via"),
                                            f"{kind} {p.apply_via!r} is not defined in this pack", p.id))
                ok = False
        if ok:
            mark = src.document.mark(("policies", i))
            policies[p.id] = m.Policy(
                id=p.id, title=m.Text(**p.title.model_dump()), domain=p.domain, department=p.department,
                legal_basis=p.legal_basis, unit=p.unit, views=tuple(p.views), criteria=tuple(criteria),
                parameters=tuple(sorted(used)), amount=amount, amount_source=(p.amount or "").strip(),
                benefit=p.benefit, apply_via=p.apply_via, demo=p.demo, file=src.path, line=mark[0] if mark else None)

    where = {p.id: (src, i) for src, i, p in decls}
    order, cycles = _topological(policies)
    for cycle in cycles:
        src, i = where[cycle[0]]
        problems.append(src.problem(("policies", i, "id"), "policies refer to each other in a cycle: "
                                    + " → ".join([*cycle, cycle[0]]), cycle[0]))
    if problems:
        return None, problems
    return m.PolicySet(policies=tuple(policies[p] for p in order), parameters=parameters,
                       warnings=tuple(warnings)), []


def _duplicates(sources: list[Source]) -> list[Problem]:
    """A policy or parameter id defined twice among the files, refused as a pack refuses it."""
    problems: list[Problem] = []
    first: dict[tuple[str, str], tuple[Source, int]] = {}
    for src in sources:
        ids: list[tuple[str, str, list[str]]] = [
            ("policy_parameter", "parameters", [p.id for p in src.model.parameters]),
            ("policy", "policies", [p.id for p in src.model.policies])]
        for kind, key, names in ids:
            for i, name in enumerate(names):
                seen = first.get((kind, name))
                if seen is None:
                    first[(kind, name)] = (src, i)
                    continue
                mark = seen[0].document.mark((key, seen[1], "id"))
                problems.append(src.problem((key, i, "id"), f"duplicate {kind} id {name!r} (first defined in "
                                            f"{seen[0].path}:{mark[0] if mark else '?'})", name))
    return problems


def _coverage_gap(param: m.Parameter) -> str | None:
    """What a parameter leaves without a value, if anything: the regions outside its prefixes,
    or every region before its value for everywhere starts (a subject there gets no value, and a
    criterion reading it is not met)."""
    starts = sorted(v.start for v in param.values)
    everywhere = sorted(v.start for v in param.values if v.region == "")
    if not starts:
        return None
    if not everywhere:
        regions = ", ".join(sorted({v.region for v in param.values}))
        return (f"no value for everywhere (`*`): a subject outside {regions} or with no region gets none, "
                "and a criterion reading it is not met")
    if everywhere[0] > starts[0]:
        return (f"no value for everywhere (`*`) before {everywhere[0].isoformat()}: until then a subject outside "
                "the regions with a value gets none, and a criterion reading it is not met")
    return None


def _topological(policies: dict[str, m.Policy]) -> tuple[list[str], list[list[str]]]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    cycles: list[list[str]] = []

    def visit(pid: str, stack: list[str]) -> None:
        if state.get(pid) == 2 or pid not in policies:
            return
        if state.get(pid) == 1:
            cycles.append(stack[stack.index(pid):])
            return
        state[pid] = 1
        for ref in sorted(policies[pid].policy_refs):
            visit(ref, [*stack, pid])
        state[pid] = 2
        order.append(pid)

    for pid in policies:
        visit(pid, [])
    return order, cycles


# --- entry points ----------------------------------------------------------------------------

POLICY_FILES = "policies/*.yaml"


def policies_of_pack(pack: Pack) -> m.PolicySet:
    """The typed policies of a checked pack (raises PackError if they do not build)."""
    sources = [Source(pf.path, pf.document, pf.model, (pack.root / pf.path).read_text(encoding="utf-8"))
               for pf in pack.files_of("policies")]
    result, problems = build(sources, pack=pack)
    if result is None:
        raise PackError(problems)
    return result


def read_policy_files(paths: Iterable[str | Path], *, base: str | Path | None = None) -> m.PolicySet:
    """Policies from loose YAML files (no pack: apply_via and departments are not checked)."""
    problems: list[Problem] = []
    sources: list[Source] = []
    for path in paths:
        path = Path(path)
        rel = path.relative_to(base).as_posix() if base else path.name
        text = path.read_text(encoding="utf-8")
        doc = parse_yaml(text, rel)
        problems += doc.problems
        if doc.problems:
            continue
        if not isinstance(doc.data, dict):
            problems.append(Problem(rel, 1, 1, None, "the file must be a mapping of keys to values"))
            continue
        try:
            model = PolicyFile.model_validate(doc.data)
        except ValidationError as exc:
            from tongban.core.packs.loader import Section

            pf = PackFile(rel, Section("policies", PolicyFile, (POLICY_FILES,), None, None, 0, False, "",
                                       ("id",)), doc)
            problems += pf.validation_problems(exc)
            continue
        sources.append(Source(rel, doc, model, text))
    if problems:
        raise PackError(problems)
    result, problems = build(sources)
    if result is None:
        raise PackError(problems)
    return result


def read_policies(root: str | Path) -> m.PolicySet:
    """Policies of a pack folder (fully checked, with the pack's other sections) or of a
    folder of loose policy files."""
    root = Path(root)
    if (root / "pack.yaml").is_file():
        from tongban.core.packs.loader import read_pack

        result = policies_of_pack(read_pack(root))
    else:
        files = sorted(root.glob("*.yaml")) or sorted((root / "policies").glob("*.yaml"))
        result = read_policy_files(files, base=root)
    for warning in result.warnings:  # loaded, but worth an operator's look (`tongban policy check` prints them)
        log.warning("policy warning: %s", warning)
    return result


_ID_RE = re.compile(NAME_PATTERN)
