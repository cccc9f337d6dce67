"""Server-rendered pages (portal, workbench, cockpit grow here)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    return None
