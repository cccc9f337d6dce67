"""What a person does in the browser tests, as steps a test reads like a sentence."""

from __future__ import annotations

from typing import Any

from tongban import testing


def sign_in(page: Any, username: str, password: str = testing.DEMO_PASSWORD) -> None:
    """Sign in as a person does: open the login page, type the username and password, press Enter."""
    page.goto("/login")
    page.locator("#username").press_sequentially(username)
    page.locator("#password").press_sequentially(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    assert "/login" not in page.url, f"signing in as {username} failed: {page.locator('body').inner_text()[:300]}"
