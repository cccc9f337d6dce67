"""Response shapes shared by every API router (see docs/api-conventions.md)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list: `items`, and `next_cursor` (opaque) when more follow."""

    items: list[T]
    next_cursor: str | None = None


class ProblemError(BaseModel):
    field: str
    message: str
    code: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer (`application/problem+json`)."""

    type: str = Field(description="A stable URI per kind of problem (docs/api-conventions.md lists them).")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    field: str | None = Field(None, description="The field at fault, when there is one.")
    errors: list[ProblemError] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


# Shared by every API router (the app includes them with it), so the document names the errors
# every operation can answer; 422 replaces FastAPI's own HTTPValidationError.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Bad request"),
    401: _problem_response("Not signed in"),
    403: _problem_response("Not allowed"),
    404: _problem_response("Not found (or not yours)"),
    409: _problem_response("Conflict: a stale version or a repeated key with another request"),
    413: _problem_response("Request or form field too large"),
    422: _problem_response("Invalid input, naming the field"),
}


def refusals(rules: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """An operation's own business-rule refusals, for its `responses=`: the status and which rules
    answer it (a schema-valid request refused by a rule only the server can check — a form's
    rules, an id that names nothing usable, a state that does not allow it). The API fuzzing's
    configuration (tests/fuzz/schemathesis.toml) lists the same statuses as expected."""
    return {status: _problem_response(text) for status, text in rules.items()}


# The request boundary's rule for every string of every request (tongban.web.boundary): no NUL (nor
# a lone UTF-16 surrogate, which no pattern can name: see core.text.FREE_TEXT_PATTERN). Free text
# says more, and keeps its own pattern.
ANY_TEXT_PATTERN = r"^[^\x00]*$"


def add_text_patterns(document: dict[str, Any]) -> dict[str, Any]:
    """Give every string a request can carry — parameters, and the request bodies' schemas with
    what they refer to — the boundary's character rule as its `pattern`, unless it has a pattern,
    an enum or a format of its own: a client can tell from the document what will be refused."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                walk(components[name])
            return
        if node.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(node):
            node["pattern"] = ANY_TEXT_PATTERN
        for key, value in node.items():
            if key not in ("example", "examples", "default", "description", "title"):
                walk(value)

    for item in document.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict):
                walk([p.get("schema") for p in op.get("parameters", [])])
                walk(op.get("requestBody", {}).get("content"))
    return document


def fix_integer_bounds(document: dict[str, Any]) -> dict[str, Any]:
    """Integer bounds as integers. FastAPI's OpenAPI models type `minimum`/`maximum` as floats, so
    the 64-bit id bound (2^63 − 1) came out as 9.223372036854776e18 — 2^63, one more than the
    server takes: a client (or a fuzzer) reading the document would send 2^63 and be refused."""
    from tongban.core.ids import MAX_ID

    def fix(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                fix(item)
        elif isinstance(node, dict):
            if node.get("type") == "integer":
                for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                    value = node.get(key)
                    if isinstance(value, float) and value.is_integer():
                        node[key] = MAX_ID if value >= float(MAX_ID) else int(value)
            for value in node.values():
                fix(value)

    fix(document)
    return document


CURSOR_REFUSAL = "a `cursor` this list did not hand out"


def document_cursor_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """Every list taking a `cursor` says, in its 422, that a cursor it did not hand out is refused:
    the cursor is opaque (core.paging), so no schema can tell a good one from a bad one."""
    for item in document.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict) or not any(p.get("name") == "cursor" for p in op.get("parameters", [])):
                continue
            answer = op.setdefault("responses", {}).setdefault("422", _problem_response("Invalid input"))
            if CURSOR_REFUSAL not in answer.get("description", ""):
                answer = op["responses"]["422"] = {**answer, "description": f"{answer['description']}; or {CURSOR_REFUSAL}"}
    return document


def add_problem_schema(document: dict[str, Any]) -> dict[str, Any]:
    """Put `Problem` (and what it uses) into an OpenAPI document's components, where the shared
    responses refer to it; FastAPI's 422 schemas, which no operation uses any more, go."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["Problem"] = schema
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in str(document.get("paths")):
            components.pop(unused, None)
    return document
