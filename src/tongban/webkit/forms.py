"""Posted HTML forms, for the page routers of every slice: the form read once (so the handlers stay
synchronous, in the thread pool) and its text fields trimmed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def form_text(form: FormData, name: str) -> str | None:
    """A text field, trimmed; None when it is missing, blank or not text (an upload)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None
