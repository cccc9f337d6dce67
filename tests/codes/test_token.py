"""The code's format: compact, signed, and refused when altered, forged or unreadable."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tongban.codes import token


def _keys() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, {"code-1": pem}


def _code(key: Ed25519PrivateKey, subject: int = 42) -> str:
    payload = token.Payload("code.domestic-worker", subject, "dept.haishu.hrss", 1_780_000_000, "code-1")
    return token.assemble(payload, token.sign(key, payload))


def test_a_code_verifies_and_names_its_payload() -> None:
    key, public = _keys()
    code = _code(key)
    assert len(code) < 200  # fits a QR code at error correction M comfortably
    payload = token.verify(code, public)
    assert (payload.type_id, payload.subject_id, payload.issuer, payload.kid) == (
        "code.domestic-worker", 42, "dept.haishu.hrss", "code-1")
    assert payload.identifier == "code:code.domestic-worker:42"


def test_an_altered_payload_fails_with_bad_signature() -> None:
    key, public = _keys()
    code = _code(key)
    head, sig = code.split(".")
    altered = token.b64(token.unb64(head).replace(b"|42|", b"|43|"))
    with pytest.raises(token.BadCode) as caught:
        token.verify(f"{altered}.{sig}", public)
    assert caught.value.reason == "bad_signature" and "altered" in str(caught.value)
    # another code's signature on this payload fails too
    other_sig = _code(key, subject=7).split(".")[1]
    with pytest.raises(token.BadCode, match="altered or forged"):
        token.verify(f"{head}.{other_sig}", public)


def test_a_code_signed_by_another_key_or_unreadable_is_refused() -> None:
    key, public = _keys()
    other, _ = _keys()
    with pytest.raises(token.BadCode) as forged:
        token.verify(_code(other), public)
    assert forged.value.reason == "bad_signature"
    with pytest.raises(token.BadCode) as unknown:
        token.verify(_code(key), {"code-2": public["code-1"]})
    assert unknown.value.reason == "unknown_key"
    for junk in ("", "abc", "a.b.c", "!!!.???", "x" * 500, token.b64(b"1|a|b|c|d|e") + "." + token.b64(b"s" * 64)):
        with pytest.raises(token.BadCode) as bad:
            token.verify(junk, public)
        assert bad.value.reason == "malformed"
