"""The catalogue in the portal (#22 part 1): the search box (`/search`, `GET /api/v1/catalog/search`)
over every item and one-thing and their guide text, with bad input refused by name; the guide
pages (办事指南) of items and one-things, public, 404 for an unknown id; the catalogue by domain
and life event; a single item's consent box before its form; unpublished items nowhere;
the guide's pack fields checked at load; `services.guide_actions` rendered under 开始办理."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.services.conftest import DEMO_PASSWORD
from tests.services.test_pages import _post, as_user
from tongban.core.packs.loader import PackError, read_pack
from tongban.core.slices import Link
from tongban.services.models import ServiceItem

PACK = Path(__file__).resolve().parents[2] / "packs" / "demo"
EN = {"Accept-Language": "en"}


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in rows}


# --- search ------------------------------------------------------------------------------------


def test_search_finds_items_and_onethings_by_their_guide_text(client, demo) -> None:  # type: ignore[no-untyped-def]
    found = client.get("/api/v1/catalog/search", params={"q": "低保"}).json()
    assert {"item.dibao", "item.dibao-edge", "item.utility-relief"} <= _ids(found["items"])
    assert "item.birth-certificate" not in _ids(found["items"])
    assert "onething.assistance" in _ids(found["onethings"])
    # who may apply (a field added for the guide) is searched too: only the elderly allowance says 80
    by_applicants = client.get("/api/v1/catalog/search", params={"q": "年满80周岁"}).json()
    assert _ids(by_applicants["items"]) == {"item.elderly-allowance"}
    # a one-thing is found by its items' titles; every word must be there, in either language
    birth = client.get("/api/v1/catalog/search", params={"q": "预防接种证"}).json()
    assert "onething.birth" in _ids(birth["onethings"]) and _ids(birth["items"]) == {"item.vaccination"}
    english = client.get("/api/v1/catalog/search", params={"q": "  driving\tLICENCE "}).json()
    assert _ids(english["items"]) == {"item.driving-licence-renewal"} and english["q"] == "driving licence"
    assert client.get("/api/v1/catalog/search", params={"q": "driving dibao"}).json()["items"] == []


@pytest.mark.parametrize("q", [None, "", "   "])
def test_an_empty_search_finds_nothing(client, demo, q) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/catalog/search", params={} if q is None else {"q": q})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"q": "", "onethings": [], "items": []}


@pytest.mark.parametrize("q", ["低" * 101, "dibao\x01", "a\u202eb", "x\x7f"])
def test_a_bad_search_is_refused_naming_q(client, demo, q) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/catalog/search", params={"q": q}, headers=EN)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["field"] == "q" and ("too long" in body["detail"] or "not allowed" in body["detail"]), body
    page = client.get("/search", params={"q": q})
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text and 'aria-invalid="true"' in page.text
    assert ("内容过长" if len(q) > 100 else "内容含有不允许的字符") in page.text


def test_the_search_page_links_each_result_to_its_guide(client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/search", params={"q": "低保"})
    assert page.status_code == 200
    assert 'href="/guide/item.dibao"' in page.text and 'href="/guide/onething.assistance"' in page.text
    assert 'href="/guide/item.birth-certificate"' not in page.text
    assert page.text.count('role="search"') == 1  # the page's own form; the header's is left out here
    empty = client.get("/search")
    assert empty.status_code == 200 and 'href="/guide/' not in empty.text
    # user text comes back escaped
    escaped = client.get("/search", params={"q": "<script>x</script>"})
    assert escaped.status_code == 200 and "<script>x</script>" not in escaped.text


def test_the_search_box_is_on_login_and_public_pages_not_on_the_workbench(client, demo) -> None:  # type: ignore[no-untyped-def]
    for path in ("/login", "/catalogue", "/guide/item.dibao", "/places/near"):
        assert 'action="/search"' in client.get(path).text, path
    as_user(client, "resident.zhang")
    assert 'action="/search"' in client.get("/portal").text
    as_user(client, "officer.mca")
    assert 'action="/search"' not in client.get("/workbench").text


# --- the catalogue by domain and life event -------------------------------------------------------


def test_the_catalogue_lists_every_domain_and_life_event_and_what_each_holds(client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/catalogue")
    assert page.status_code == 200
    assert page.text.count('href="/catalogue?domain=') == 12 and page.text.count('href="/catalogue?life_event=') == 12
    elderly = client.get("/catalogue", params={"domain": "elderly"}).text
    assert 'href="/guide/item.elderly-allowance"' in elderly and 'href="/guide/item.dibao"' not in elderly
    birth = client.get("/catalogue", params={"life_event": "birth"}).text
    assert 'href="/guide/onething.birth"' in birth and 'href="/guide/item.household-birth"' in birth
    assert client.get("/catalogue", params={"domain": "space"}).status_code == 404
    assert client.get("/catalogue", params={"life_event": "wedding"}).status_code == 404


# --- guides -----------------------------------------------------------------------------------------


def test_an_items_guide_says_who_what_when_where_and_starts_through_the_login(client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/guide/item.dibao")
    assert page.status_code == 200, page.text
    text = page.text
    for expected in ("最低生活保障审核确认", "人均收入低于当地低保标准", "社会救助申请书", "不收费", "《社会救助暂行办法》",
                     "西门街道便民服务中心", "海曙区民政局", 'href="/portal/items/item.dibao"'):
        assert expected in text, expected
    assert "30" in text and "20" in text  # statutory and promised days
    # a hall named by the item (the deed tax at the district hall), and a place outside any hall
    assert "海曙区行政服务中心" in client.get("/guide/item.deed-tax").text
    assert "助产机构" in client.get("/guide/item.birth-certificate").text
    # anonymous 开始办理: the login page, then back to the item
    start = client.get("/portal/items/item.dibao", follow_redirects=False)
    assert start.status_code in (302, 303, 307) and "/login?next=" in start.headers["location"]
    assert "item.dibao" in start.headers["location"]
    api = client.get("/api/v1/catalog/guide/item.dibao").json()
    assert api["fee"] == "不收费" and api["visits"] == 2 and api["online"] is False
    assert [p["key"] for p in api["places"]][:1] and all(p["key"].startswith("place.hall-") for p in api["places"])


def test_a_onethings_guide_lists_its_items_and_savings(client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/guide/onething.birth")
    assert page.status_code == 200
    assert 'href="/guide/item.household-birth"' in page.text and 'href="/portal/apply/onething.birth"' in page.text
    assert "savings" in page.text


@pytest.mark.parametrize("guide_id", ["item.no-such-thing", "onething.nothing", "nothing", "item.%E2%80%AE"])
def test_an_unknown_guide_is_404(client, demo, guide_id) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"/guide/{guide_id}").status_code == 404
    assert client.get(f"/api/v1/catalog/guide/{guide_id}").status_code == 404


def test_guide_actions_of_other_slices_show_under_start(client, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tongban.services import catalog_pages

    def book(session, item_id):  # type: ignore[no-untyped-def]
        return Link("book", "Book a visit to the hall", "", f"/book/{item_id}") if item_id == "item.dibao" else None

    monkeypatch.setattr(catalog_pages.slices, "contributed",
                        lambda to: (book,) if to == "services.guide_actions" else ())
    assert 'href="/book/item.dibao"' in client.get("/guide/item.dibao").text
    assert "/book/" not in client.get("/guide/item.deed-tax").text


# --- a single item applied for like a one-thing ----------------------------------------------------


def test_a_single_item_has_the_consent_box_before_its_prefilled_form(client, demo) -> None:  # type: ignore[no-untyped-def]
    token = as_user(client, "resident.zhang")
    box = client.get("/portal/items/item.unemployment-registration")
    assert box.status_code == 200, box.text
    assert 'action="/portal/items/item.unemployment-registration/consent"' in box.text
    assert 'href="/portal/items/item.unemployment-registration/form"' in box.text
    resp = _post(client, "/portal/items/item.unemployment-registration/consent", {"csrf_token": token})
    assert resp.status_code == 303 and "/form?consent_id=" in resp.headers["location"]
    form = client.get(resp.headers["location"])
    assert form.status_code == 200
    assert "张明" in form.text  # prefilled from the registry with his consent
    # without the token the consent is not given
    assert _post(client, "/portal/items/item.unemployment-registration/consent", {}).status_code == 403


# --- unpublished items -------------------------------------------------------------------------------


def _unpublish(db, item_id: str) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work() as s:
        item = s.scalar(select(ServiceItem).where(ServiceItem.id == item_id))
        item.definition = {**item.definition, "published": False}


def test_an_unpublished_item_is_nowhere_and_cannot_be_applied_for(client, demo, login) -> None:  # type: ignore[no-untyped-def]
    _unpublish(demo, "item.sports-instructor")
    domains = client.get("/api/v1/catalog/domains").json()["items"]
    assert "item.sports-instructor" not in {i["id"] for d in domains for i in d["items"]}
    assert client.get("/api/v1/catalog/items", params={"q": "社会体育指导员"}).json()["items"] == []
    assert client.get("/api/v1/catalog/search", params={"q": "社会体育指导员"}).json()["items"] == []
    assert "sports-instructor" not in client.get("/catalogue", params={"domain": "sports"}).text
    assert client.get("/guide/item.sports-instructor").status_code == 404
    assert client.get("/api/v1/catalog/guide/item.sports-instructor").status_code == 404
    resp = client.post("/api/v1/applications", headers={**login("resident.zhang"), "Idempotency-Key": "unpub"},
                       json={"item_id": "item.sports-instructor", "data": {}})
    assert resp.status_code == 404 and resp.json()["field"] == "item_id"
    as_user(client, "resident.zhang")
    assert client.get("/portal/items/item.sports-instructor").status_code == 404
    assert client.get("/portal/items/item.sports-instructor/form").status_code == 404


# --- the pack -----------------------------------------------------------------------------------------


def _pack_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    pack = tmp_path / "demo"
    shutil.copytree(PACK, pack)
    path = pack / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return pack


def test_every_demo_item_has_its_guide_fields() -> None:
    pack = read_pack(PACK)
    for item_id in pack.ids("item"):
        item = pack.get("item", item_id)
        assert item.applicants and item.fee and item.hours, item_id


@pytest.mark.parametrize(("file", "old", "new", "says"), [
    ("items/vaccination.yaml", "schema_version: 1\nitem:\n", "schema_version: 1\nitem:\n  published: false\n",
     "onethings/birth.yaml"),
    ("items/elderly-allowance.yaml", "  fee: {zh: \"不收费\"", "  fee: {zh: \"" + "很" * 501 + "\"", "at most 500"),
    ("items/deed-tax.yaml", "halls: [place.hall-haishu]", "halls: [place.hall-haishu, place.hall-haishu]",
     "listed twice"),
    ("items/deed-tax.yaml", "halls: [place.hall-haishu]", "halls: [place.nowhere]", "place.nowhere"),
    ("items/deed-tax.yaml", "  fee: {zh:", "  fees: {zh:", "fees"),
])
def test_a_bad_guide_field_refuses_the_pack(tmp_path: Path, file: str, old: str, new: str, says: str) -> None:
    with pytest.raises(PackError) as err:
        read_pack(_pack_with(tmp_path, file, old, new))
    assert says in str(err.value), str(err.value)[:2000]
    assert (Path(file).name in str(err.value)) or "not published" in str(err.value), str(err.value)[:2000]


def test_login_page_points_to_the_catalogue(client, demo) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert 'href="/catalogue"' in page.text
    assert DEMO_PASSWORD not in page.text
