"""No personal data in the logs: an integrity error on an ID number, provoked through the app,
leaves the number nowhere in what is logged (issue #15, failure 4)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.registry.factories import PACK, make_person
from tongban.core.logging import JsonFormatter
from tongban.core.packs.loader import load_pack


def test_an_integrity_error_on_an_id_number_logs_no_id_number(db, settings, caplog):  # type: ignore[no-untyped-def]
    from tongban.web.app import create_app

    app = create_app(settings=settings, db=db)
    with db.unit_of_work() as s:
        load_pack(s, PACK)
        id_number = make_person(s, "陈秀英").id_number

    @app.get("/test/duplicate-person")
    def duplicate() -> None:  # a bug that inserts a person twice
        with db.unit_of_work() as s:
            make_person(s, "陈秀英", id_number=id_number)

    caplog.set_level(logging.DEBUG)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/test/duplicate-person").status_code == 500
    [logged] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    formatter = JsonFormatter()
    everything = caplog.text + "\n".join(formatter.format(r) for r in caplog.records)
    assert "IntegrityError" in formatter.format(logged)  # the error is logged, scrubbed
    assert id_number not in everything
    assert id_number[6:14] not in everything  # not even the birth date part


def test_engines_hide_statement_parameters(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    with db.unit_of_work() as s:
        load_pack(s, PACK)
        id_number = make_person(s, "周强").id_number
    with pytest.raises(IntegrityError) as caught, db.unit_of_work() as s:
        make_person(s, "周强", id_number=id_number)
    assert "parameters hidden" in str(caught.value)
