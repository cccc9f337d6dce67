"""Every page of the portal and the workbench, driven by the app's own route list: each renders
for the roles that may see it and refuses everyone else (a redirect to the login for an anonymous
visitor, 403 or 404 for a signed-in one), and shows user-supplied text escaped. A page added
without a rule in `PAGES` fails `test_every_page_has_a_rule`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi.routing import APIRoute
from sqlalchemy import select

from tests.factories import web_login
from tests.screening.conftest import PASSWORD, City, city  # noqa: F401 - the screening city fixture
from tests.services.conftest import DEMO_PASSWORD, birth_data
from tongban.core.identity.models import Account, Region
from tongban.messages.models import Message
from tongban.places.models import Place
from tongban.registry.models import Address, Person
from tongban.screening.models import Offer


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI ≥ 0.165 keeps included routers whole
            yield from _routes(route.original_router.routes, prefix + (route.include_context.prefix or ""))


def page_paths(app: Any) -> set[str]:
    """The GET routes that are pages: not the API (nor Open311's, tests/cases/test_open311.py), not the health probes."""
    return {path for path, route in _routes(app.router.routes) if "GET" in route.methods
            and not path.startswith(("/api/", "/open311/")) and path not in ("/healthz", "/readyz", "/metrics")}


SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

PROBES = ("anonymous", "resident.zhang", "resident.under", "officer.health", "officer.mca", "grid.nanmen",
          "steward.bigdata", "leader.haishu", "hotline.haishu", "admin.platform")
ADMIN = "admin.platform"  # holds every permission, the resident's included (the demo pack's role)
EVERYONE = frozenset(PROBES)
RESIDENTS = frozenset({"resident.zhang", "resident.under", ADMIN})
STAFF = frozenset(PROBES[3:])
OFFICERS = frozenset({"officer.health", "officer.mca", ADMIN})
PERSON_READERS = OFFICERS | {"grid.nanmen"}


@dataclass(frozen=True)
class Page:
    url: str  # with {application_id}, {task_id}, {offer_id}, {person_id} from the world
    ok: frozenset[str]  # the probes that get the page (200); the others are refused
    entry: bool = False  # `/` and `/login`: a signed-in visitor is sent on to their landing page


PAGES = {
    "/": Page("/", frozenset(), entry=True),
    "/login": Page("/login", frozenset({"anonymous"}), entry=True),
    "/open": Page("/open", EVERYONE),
    "/places/near": Page("/places/near?community=330203004002", EVERYONE),
    "/places/map": Page("/places/map", EVERYONE),
    "/open/datasets/{dataset_id}.{fmt}": Page("/open/datasets/ds.service-halls.csv", EVERYONE),
    "/verify/{ref}": Page("/verify/999999?sig=AAAA", EVERYONE),
    "/c/{code}": Page("/c/not-a-code-we-issued", EVERYONE),  # a code's scan page: anyone
    "/verify": Page("/verify?number=NO-SUCH-1", EVERYONE),
    "/favicon.ico": Page("/favicon.ico", EVERYONE),
    "/cockpit": Page("/cockpit", frozenset({"leader.haishu", ADMIN})),
    "/cockpit/indicators/{key}": Page("/cockpit/indicators/cockpit.staff", frozenset({"leader.haishu", ADMIN})),
    "/portal": Page("/portal", RESIDENTS),
    "/portal/record": Page("/portal/record", RESIDENTS),
    "/portal/data": Page("/portal/data", RESIDENTS),
    "/portal/apply": Page("/portal/apply", RESIDENTS),
    "/portal/apply/{onething_id}": Page("/portal/apply/onething.birth", RESIDENTS),
    "/portal/apply/{onething_id}/form": Page("/portal/apply/onething.birth/form", RESIDENTS),
    "/portal/applications": Page("/portal/applications", RESIDENTS),
    # The applicant's own view, data in clear: its parties only, not a platform admin (who reads
    # through the API, audited).
    "/portal/applications/{application_id}": Page("/portal/applications/{application_id}",
                                                  frozenset({"resident.zhang"})),
    "/portal/applications/{application_id}/withdraw": Page("/portal/applications/{application_id}/withdraw",
                                                           frozenset({"resident.zhang"})),
    # a material of no one's: refused to everyone (the parties' own reads: tests/services/test_material_pages.py)
    "/portal/applications/{application_id}/materials/{material_row_id}": Page(
        "/portal/applications/{application_id}/materials/999999", frozenset()),
    # 找人帮我办: one's authorisations; filing for a person who authorised no one here is refused
    "/portal/proxies": Page("/portal/proxies", RESIDENTS),
    "/portal/proxies/start": Page("/portal/proxies/start?on_behalf_of=999999&target=ot:onething.birth", frozenset()),
    "/portal/wallet": Page("/portal/wallet", RESIDENTS),
    # a certificate of no one's: refused to everyone (a holder's own QR is in tests/browser)
    "/portal/wallet/{certificate_id}/qr.svg": Page("/portal/wallet/999999/qr.svg", frozenset()),
    "/portal/items/{item_id}/form": Page("/portal/items/item.disability-living-allowance/form", RESIDENTS),
    "/portal/items/{item_id}": Page("/portal/items/item.disability-living-allowance", RESIDENTS),
    # the public catalogue (#22): the search, the domains and life events, the guides
    "/search": Page("/search?q=低保", EVERYONE),
    "/catalogue": Page("/catalogue?domain=assistance", EVERYONE),
    "/guide/{guide_id}": Page("/guide/item.dibao", EVERYONE),
    "/portal/messages": Page("/portal/messages", RESIDENTS),
    "/portal/messages/settings": Page("/portal/messages/settings", RESIDENTS),
    # One's own message only (the officer's is theirs; a platform admin reads no one else's).
    "/portal/messages/{message_id}": Page("/portal/messages/{resident_message_id}", frozenset({"resident.zhang"})),
    "/workbench/messages": Page("/workbench/messages", STAFF),
    "/workbench/messages/{message_id}": Page("/workbench/messages/{staff_message_id}",
                                             frozenset({"officer.health"})),
    "/portal/entitlements/card": Page("/portal/entitlements/card", RESIDENTS),
    "/portal/offers/{offer_id}": Page("/portal/offers/{offer_id}", frozenset({"resident.under"})),
    "/workbench": Page("/workbench", STAFF),
    "/workbench/catalog": Page("/workbench/catalog", STAFF),
    "/workbench/quality": Page("/workbench/quality", frozenset({"steward.bigdata", ADMIN})),
    "/workbench/persons": Page("/workbench/persons", PERSON_READERS),
    "/workbench/persons/{person_id}": Page("/workbench/persons/{person_id}", PERSON_READERS),
    "/workbench/screening": Page("/workbench/screening", PERSON_READERS),
    "/workbench/screening/explain": Page("/workbench/screening/explain?person_id={person_id}&policy=dibao",
                                         PERSON_READERS),
    # a district run: not the grid worker's (their screening page does not list it either)
    "/workbench/screening/runs/{run_id}/compare": Page("/workbench/screening/runs/{run_id}/compare", OFFICERS),
    "/workbench/screening/visits": Page("/workbench/screening/visits", frozenset({"grid.nanmen", ADMIN})),
    "/workbench/tasks": Page("/workbench/tasks", OFFICERS),
    "/workbench/tasks/export.xlsx": Page("/workbench/tasks/export.xlsx", OFFICERS),
    "/workbench/tasks/{task_id}": Page("/workbench/tasks/{task_id}", frozenset({"officer.health", ADMIN})),
    "/workbench/tasks/{task_id}/materials/{material_row_id}": Page("/workbench/tasks/{task_id}/materials/999999",
                                                                  frozenset()),
    "/workbench/counter": Page("/workbench/counter", OFFICERS),  # counter.file: the officer role
    "/workbench/dashboard": Page("/workbench/dashboard", OFFICERS),
    "/workbench/codes": Page("/workbench/codes", OFFICERS),  # the codes the department issued
    # The case engine (issue #25): 我要说, the case queue, intake; a case of no one is no one's page.
    "/portal/cases": Page("/portal/cases", RESIDENTS),
    "/portal/cases/new": Page("/portal/cases/new", RESIDENTS),
    "/portal/cases/{case_id}": Page("/portal/cases/999999", frozenset()),
    "/case-files/{case_id}/{attachment_id}": Page("/case-files/999999/1", frozenset()),
    "/workbench/cases": Page("/workbench/cases", OFFICERS | {"grid.nanmen", "hotline.haishu"}),
    "/workbench/cases/new": Page("/workbench/cases/new", frozenset({"grid.nanmen", "hotline.haishu", ADMIN})),
    "/workbench/cases/{case_id}": Page("/workbench/cases/999999", frozenset()),
    # Appointments (issue #28): the public booking pages, one's own bookings, the serving staff's day.
    "/places/{place_id:int}": Page("/places/{place_id}", EVERYONE),
    "/appointments/item/{item_id}": Page("/appointments/item/item.vaccination", EVERYONE),
    "/appointments/place/{place_id}": Page("/appointments/place/{place_id}", EVERYONE),
    "/appointments/r/{resource_id}": Page("/appointments/r/appt.hall-haishu.social-security", EVERYONE),
    "/appointments/mine": Page("/appointments/mine", RESIDENTS),
    "/appointments/bookings/{booking_id}.ics": Page("/appointments/bookings/999999.ics", frozenset()),
    "/workbench/appointments": Page("/workbench/appointments", OFFICERS),
    # 好差评 (issue #26): 我要评, the public figures; a rating page of no one's application, a
    # rectification of no one's, a counter tablet for no application are no one's pages.
    "/portal/ratings": Page("/portal/ratings", RESIDENTS),
    "/ratings/stats": Page("/ratings/stats", EVERYONE),
    "/ratings/rate/{kind}/{subject_id}": Page("/ratings/rate/application/999999", frozenset()),
    "/ratings/follow-up/{rectification_id}": Page("/ratings/follow-up/999999", frozenset()),
    "/workbench/ratings": Page("/workbench/ratings", OFFICERS),
    "/workbench/ratings/counter": Page("/workbench/ratings/counter", OFFICERS),
    "/workbench/ratings/counter/{application_id}": Page("/workbench/ratings/counter/999999", frozenset()),
    "/workbench/ratings/rectifications/{rectification_id}": Page("/workbench/ratings/rectifications/999999",
                                                                 frozenset()),
}


def test_every_page_has_a_rule(app) -> None:  # type: ignore[no-untyped-def]
    assert "/portal" in page_paths(app)  # the route walk still sees the included routers
    assert page_paths(app) == set(PAGES)


def _token(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def _world(client, city: City, text: str = "") -> dict[str, Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Something behind every page: resident.zhang's birth application (`text` in its place of
    birth and address) and its task at the health bureau, a screening run by officer.mca and
    the offer it made resident.under."""
    data = birth_data(child_birth_place="宁波市妇女儿童医院" + text, mailing_address="解放南路128号" + text)
    app = client.post("/api/v1/applications", json={"onething_id": "onething.birth", "data": data},
                      headers={**_token(client, "resident.zhang"), "Idempotency-Key": "page-access"})
    assert app.status_code == 201, app.text
    run = client.post("/api/v1/screening/runs", json={"region": "330203"}, headers=_token(client, "officer.mca"))
    assert run.status_code == 201, run.text
    with client.app.state.db.unit_of_work() as s:
        offer = s.scalar(select(Offer.id).where(Offer.person_id == city.under))
        messages = {who: mid for mid, who in s.execute(
            select(Message.id, Account.username).join(Account, Account.id == Message.account_id)
            .where(Message.application_id == app.json()["id"]))}
        place = s.scalar(select(Place.id).where(Place.key == "place.hall-haishu"))
    task = next(t["id"] for t in app.json()["tasks"] if t["item_id"] == "item.birth-certificate")
    return {"application_id": app.json()["id"], "task_id": task, "offer_id": offer, "person_id": city.under,
            "resident_message_id": messages["resident.zhang"], "staff_message_id": messages["officer.health"],
            "run_id": run.json()["id"], "place_id": place}


def _sessions(client) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The session cookies of each probe, logged in once through the form."""
    cookies: dict[str, dict[str, str]] = {"anonymous": {}}
    for username in PROBES[1:]:
        client.cookies.clear()
        resp = web_login(client, username, PASSWORD if username == "resident.under" else DEMO_PASSWORD)
        assert resp.status_code == 303, (username, resp.text)
        cookies[username] = dict(client.cookies)
    return cookies


def _get(client, sessions: dict[str, dict[str, str]], who: str, url: str):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    client.cookies.update(sessions[who])
    return client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)


def test_each_page_renders_for_its_roles_and_refuses_the_others(client, city: City) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    world = _world(client, city)
    sessions = _sessions(client)
    wrong = []
    for path, page in PAGES.items():
        url = page.url.format(**world)
        for who in PROBES:
            r = _get(client, sessions, who, url)
            where = r.headers.get("location", "")
            if who in page.ok:
                good = r.status_code == 200
            elif who == "anonymous":
                good = r.status_code == 303 and where.startswith("/login")
            elif page.entry:
                good = r.status_code == 303 and where in ("/portal", "/workbench", "/cockpit")
            else:
                good = r.status_code in (403, 404) and r.headers["content-type"].startswith("text/html")
            if not good:
                wrong.append((path, who, r.status_code, where))
    assert wrong == []


def test_user_supplied_text_is_escaped_on_every_page(client, city: City) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Names, addresses, application data, a region's name, staff names and search text, each
    carrying a script tag, on every page for everyone who may see it: never raw, and escaped
    where it is shown."""
    world = _world(client, city, text=SCRIPT)
    with client.app.state.db.unit_of_work() as s:
        for pid in (city.under, city.no_account):
            person = s.get_one(Person, pid)
            person.name += SCRIPT
            s.get_one(Address, person.address_id).road += SCRIPT
        s.get_one(Region, "330203001").name_zh += SCRIPT  # the street of the screening chart
        for account in s.scalars(select(Account)):
            account.display_name += SCRIPT
    sessions = _sessions(client)
    shown: dict[str, set[str]] = {}
    for path, page in PAGES.items():
        url = page.url.format(**world)
        if path in ("/workbench/catalog", "/open"):
            url += "?q=" + quote(SCRIPT)
        for who in page.ok:
            r = _get(client, sessions, who, url)
            assert r.status_code == 200, (path, who)
            assert SCRIPT not in r.text, (path, who)
            if ESCAPED in r.text:
                shown.setdefault(path, set()).add(who)
    # The text reaches the pages that show it (so the check above has something to find).
    assert set(shown) >= {"/portal", "/portal/record", "/workbench", "/workbench/catalog",
                          "/workbench/persons/{person_id}", "/workbench/tasks/{task_id}",
                          "/portal/applications/{application_id}", "/workbench/screening",
                          "/workbench/screening/visits"}, sorted(shown)
    next_login = _get(client, sessions, "anonymous", "/login?next=" + quote(f'/portal"{SCRIPT}'))
    assert SCRIPT not in next_login.text
    client.cookies.update(sessions["officer.mca"])
    form = client.get("/workbench/persons")
    found = client.post("/workbench/persons", data={"name": SCRIPT, "road": SCRIPT, "csrf_token": _csrf(form.text)})
    assert SCRIPT not in found.text and ESCAPED in found.text
