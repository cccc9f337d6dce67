"""One-thing pages over HTTP: the portal (我要办, 我要查, wallet, inbox) and the workbench
(queue, task, reassign, dashboard, export), each for its role only, every POST with CSRF."""

from __future__ import annotations

import re

from tests.factories import web_login
from tests.services.conftest import DEMO_PASSWORD


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    r = web_login(client, username, DEMO_PASSWORD)
    assert r.status_code == 303, r.text


def test_smoke(client, demo) -> None:  # type: ignore[no-untyped-def]
    login(client, "resident.zhang")
    for path in ("/portal/apply", "/portal/apply/onething.birth", "/portal/apply/onething.birth/form",
                 "/portal/applications", "/portal/wallet", "/portal/messages", "/portal"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[-3000:])
    login(client, "officer.health")
    for path in ("/workbench/tasks", "/workbench/dashboard", "/workbench/tasks/export.xlsx", "/workbench"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[-3000:])
