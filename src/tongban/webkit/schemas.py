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
