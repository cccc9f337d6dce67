"""`TONGBAN_PUBLIC_URL`: when set, a certificate's QR code carries the public address, not the
host the request came to (behind a proxy that may be an internal name)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services.test_certificate_verify import _path
from tests.services.test_clock_and_certificates import _issued
from tongban.core.config import Settings, load_settings
from tongban.core.db import Database
from tongban.services import certificates

PUBLIC = "https://tongban.example.gov.cn"


@pytest.fixture()
def settings(tmp_path: Path, database: Database) -> Settings:
    return load_settings(demo=True, database_url=database.url, var_dir=tmp_path / "var",
                         secret_key="test-secret-key-0123456789abcdef0123456789", audit_sealer="inline",
                         public_url=PUBLIC + "/")


def test_the_qr_code_carries_the_public_url_when_it_is_set(client, login, demo, settings) -> None:  # type: ignore[no-untyped-def]
    cert_id = _issued(demo, settings)
    resp = client.get(f"/api/v1/certificates/{cert_id}/qr.svg", headers=login("resident.zhang"))
    assert resp.status_code == 200
    assert resp.content == certificates.qr_svg(PUBLIC + _path(demo, cert_id))
    assert resp.content != certificates.qr_svg("http://testserver" + _path(demo, cert_id))
