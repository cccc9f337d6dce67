"""Issuing, scanning and revoking codes.

Issue: the payload (type, subject, issuer, issue time, key id) is signed with the `code` key and
stored — the code's parts, never an image; QR codes are rendered on request (`qr`). Every batch
stores its codes and one `code.issue` audit event in one transaction.

Scan: the code's signature is checked, then the subject's public card is read under the data
hub's *public* basis (only L1 fields of an open dataset come out) and its status is computed
from the type's rules over the live record, read under the *issuing department's* basis (owner
or grant; audited as `code.status_read`). Only the colour and its reason leave that read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, exists, insert, select
from sqlalchemy.orm import Session

from tongban.codes import token
from tongban.codes.models import CodeType, IssuedCode
from tongban.core import access, masking
from tongban.core.access import Denied, Principal
from tongban.core.audit.log import record
from tongban.core.db import all_tables
from tongban.core.errors import Conflict, Invalid, NotFound
from tongban.core.i18n import N_, gettext, pick
from tongban.core.identity.models import Department
from tongban.core.keys import Keyring
from tongban.core.paging import decode_cursor, encode_cursor
from tongban.core.timeutil import today_local, utcnow
from tongban.datahub.catalog import fields_of, find_dataset
from tongban.datahub.exchange import basis_label, dataset_basis
from tongban.datahub.release import WITHHELD, Basis, Field, release_record

COLOURS = ("green", "yellow", "red", "grey")
_RANK = {"green": 0, "yellow": 1, "red": 2}
COPY_COLUMNS = ("type_id", "subject_id", "issuer_department_id", "issued_epoch", "kid", "signature")


# --- code types and their data ------------------------------------------------------------------


def code_type(session: Session, type_id: str) -> CodeType:
    ct = session.get(CodeType, type_id) if isinstance(type_id, str) and len(type_id) <= 64 else None
    if ct is None:
        raise NotFound(N_("No such code type"))
    return ct


def code_types(session: Session) -> list[CodeType]:
    return list(session.scalars(select(CodeType).order_by(CodeType.id)))


def _dataset_table(session: Session, dataset_id: str) -> tuple[Any, Table]:
    ds = find_dataset(session, dataset_id)
    if ds is None or ds.table_name is None or ds.table_name not in all_tables().tables:
        raise Conflict(N_("The code type's dataset is not held in a table"), field="dataset")
    return ds, all_tables().tables[ds.table_name]


def issuer_principal(session: Session, department_id: str, *, client_id: str = "codes") -> Principal:
    """Who reads a code's live data: the issuing department (its owner right or its grants)."""
    dept = session.get(Department, department_id)
    if dept is None:
        raise Invalid(N_("No such department"), field="issuer")
    return Principal(kind="staff", client_id=client_id, username=client_id, department_id=dept.id,
                     region_code=dept.region_code)


def subject_dataset(session: Session, ct: CodeType, dataset_id: str | None = None) -> tuple[Any, Table]:
    """The dataset codes of `ct` are issued from (`--from`): the type's own, or one over the same table."""
    own, table = _dataset_table(session, ct.dataset_id)
    if dataset_id is None or dataset_id == own.id:
        return own, table
    ds = find_dataset(session, dataset_id)
    if ds is None:
        raise NotFound(N_("No such dataset"))
    if ds.table_name != own.table_name:
        raise Invalid(N_("Codes of this type are issued from the dataset %(name)s"), field="from", name=own.id)
    return ds, table


def pending_subjects(session: Session, ct: CodeType, table: Table, *, limit: int | None = None) -> list[int]:
    """The subjects of `ct`'s dataset that hold no code of the type yet, in id order."""
    issued = exists().where(IssuedCode.type_id == ct.id, IssuedCode.subject_id == table.c.id)
    q = select(table.c.id).where(~issued).order_by(table.c.id)
    return list(session.scalars(q.limit(limit) if limit else q))


# --- issue --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    subject_id: int
    signature: str


def sign_subjects(key: Any, *, type_id: str, issuer: str, epoch: int, kid: str,
                  subjects: Iterable[int]) -> list[tuple[str, int, str, int, str, str]]:
    """The rows (in COPY_COLUMNS order) of codes for `subjects`, signed with `key`."""
    rows = []
    for sid in subjects:
        payload = token.Payload(type_id, sid, issuer, epoch, kid)
        rows.append((type_id, sid, issuer, epoch, kid, token.sign(key, payload)))
    return rows


def copy_block(rows: Sequence[tuple[str, int, str, int, str, str]]) -> bytes:
    """The rows in COPY's text format. No value can hold a tab, newline or backslash: ids, digits,
    key ids and base64url (the payload's parser refuses anything else), so nothing is escaped."""
    return "".join("\t".join(map(str, r)) + "\n" for r in rows).encode()


COPY_SQL = ("COPY code_issued (type_id, subject_id, issuer_department_id, issued_epoch, kid, signature)"
            " FROM STDIN")


def store(session: Session, rows: Sequence[tuple[str, int, str, int, str, str]], *, method: str = "auto",
          block: bytes | None = None) -> None:
    """Store signed codes in `session`'s transaction: COPY on PostgreSQL (`method="copy"`, the
    default there; `block`, when given instead of `rows`, is `copy_block(rows)` made by the
    signer), or one multi-row INSERT (`"insert"`, SQLite's way)."""
    if not rows and not block:
        return
    conn = session.connection()
    if method == "auto":
        method = "copy" if conn.dialect.name == "postgresql" else "insert"
    if method == "copy":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(COPY_SQL) as copy:  # type: ignore[union-attr]
            copy.write(block if block is not None else copy_block(rows))
        return
    session.execute(insert(IssuedCode), [dict(zip(COPY_COLUMNS, r, strict=True)) for r in rows])


def record_batch(session: Session, *, actor: str, ct: CodeType, dataset_id: str, kid: str,
                 subjects: Sequence[int]) -> None:
    """The one audit event of a batch of codes issued (to `subjects`, in id order)."""
    record(session, actor=actor, actor_department=ct.issuer_department_id, action="code.issue",
           subject=f"code_type:{ct.id}", department_id=ct.issuer_department_id,
           details={"type": ct.id, "dataset": dataset_id, "count": len(subjects), "kid": kid,
                    "first_subject": subjects[0] if subjects else None,
                    "last_subject": subjects[-1] if subjects else None})


def issue_one(session: Session, *, keyring: Keyring, principal: Principal, type_id: str,
              subject_id: int) -> IssuedCode:
    """Issue the code of one subject (staff of the issuing department); 409 if it has one."""
    access.require(principal, "task.decide")
    ct = code_type(session, type_id)
    access.require_department(principal, ct.issuer_department_id)
    ds, table = subject_dataset(session, ct)
    if session.scalar(select(table.c.id).where(table.c.id == subject_id)) is None:
        raise NotFound(N_("No such subject in the code type's dataset"))
    if session.scalar(select(IssuedCode.id).where(IssuedCode.type_id == ct.id,
                                                  IssuedCode.subject_id == subject_id)) is not None:
        raise Conflict(N_("This subject already holds a code of this type"), field="subject_id")
    kid, key = keyring.private_key("code")
    rows = sign_subjects(key, type_id=ct.id, issuer=ct.issuer_department_id, epoch=int(utcnow().timestamp()),
                         kid=kid, subjects=[subject_id])
    store(session, rows, method="insert")
    record_batch(session, actor=principal.actor, ct=ct, dataset_id=ds.id, kid=kid, subjects=[subject_id])
    return session.scalars(select(IssuedCode).where(IssuedCode.type_id == ct.id,
                                                    IssuedCode.subject_id == subject_id)).one()


def code_string(row: IssuedCode) -> str:
    payload = token.Payload(row.type_id, row.subject_id, row.issuer_department_id, row.issued_epoch, row.kid)
    return token.assemble(payload, row.signature)


def public_keys(keyring: Keyring) -> dict[str, str]:
    return {k.kid: k.public_key_pem for k in keyring.list() if k.purpose == "code"}


# --- scan ---------------------------------------------------------------------------------------


def _catalog(session: Session, dataset_id: str) -> tuple[dict[str, Field], dict[str, dict[str, str]]]:
    fields = fields_of(session, dataset_id)
    return ({f.name: Field(f.name, f.grade, f.mask, f.filterable) for f in fields},
            {f.name: {"zh": f.title_zh, "en": f.title_en} for f in fields})


def _shown(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def public_card(session: Session, ct: CodeType, subject_id: int) -> list[dict[str, Any]]:
    """The card fields as the public basis releases them (withheld ones are left out)."""
    ds, table = _dataset_table(session, ct.dataset_id)
    catalog, titles = _catalog(session, ds.id)
    basis = Basis(kind="public", dataset_id=ds.id, catalog=catalog, sharing_type=ds.sharing_type,
                  opening_type=ds.opening_type)
    names = [n for n in ct.definition["card"] if n in catalog and basis.outcome(n, purpose=False) != WITHHELD]
    if not names:
        return []
    row = session.execute(select(*[table.c[n] for n in names]).where(table.c.id == subject_id)).first()
    if row is None:
        return []
    values, _ = release_record(basis, dict(zip(names, row, strict=True)), purpose=False)
    return [{"name": n, "title": titles[n], "value": _shown(values[n])} for n in names if values[n] is not None]


def _matches(rule: Mapping[str, Any], value: Any, today: dt.date) -> bool:
    op, want = rule["op"], rule.get("value")
    if op == "missing":
        return value is None or value == ""
    if value is None:
        return False
    if isinstance(value, dt.datetime):
        value = value.date()
    if op in ("before_today", "within_days"):
        if not isinstance(value, dt.date):
            value = dt.date.fromisoformat(str(value))
        return value < today if op == "before_today" else today <= value <= today + dt.timedelta(days=int(want or 0))
    if isinstance(value, dt.date) and isinstance(want, str):
        want = dt.date.fromisoformat(want)
    if op == "eq":
        return bool(value == want)
    if op == "ne":
        return bool(value != want)
    if op == "in":
        return value in (want or [])
    try:
        return bool({"lt": value < want, "le": value <= want, "gt": value > want, "ge": value >= want}[op])
    except TypeError:
        return False


def evaluate(definition: Mapping[str, Any], values: Mapping[str, Any],
             today: dt.date) -> tuple[str, dict[str, str] | str]:
    """The colour (green, yellow, red) and its reason: the worst matching rule, else green."""
    colour, reason = "green", definition["green"]
    for rule in definition["rules"]:
        if _RANK[rule["colour"]] > _RANK[colour] and _matches(rule, values.get(rule["field"]), today):
            colour, reason = rule["colour"], rule["reason"]
    return colour, reason


# Built-in reasons are msgids (translated where shown); a pack's reasons are {zh, en}.
UNAVAILABLE = N_("The issuing department holds no right to the status data")
GONE = N_("The record this code was issued for no longer exists")


def live_status(session: Session, ct: CodeType, subject_id: int, *, today: dt.date | None = None,
                via: str = "scan") -> tuple[str, dict[str, str] | str]:
    """The colour and reason of the subject now, read under the issuing department's basis."""
    ds, table = _dataset_table(session, ct.status_dataset_id)
    principal = issuer_principal(session, ct.issuer_department_id)
    fields = sorted({r["field"] for r in ct.definition["rules"]})
    try:
        basis = dataset_basis(session, principal=principal, ds=ds, action="code.status")
    except Denied:
        basis = None
    if basis is None or not all(basis.computable(f) for f in fields):
        return "grey", UNAVAILABLE
    row = session.execute(select(*[table.c[f] for f in fields]).where(table.c.id == subject_id)).first()
    record(session, actor=f"system:codes-{via}", actor_department=ct.issuer_department_id, action="code.status_read",
           subject=masking.subject(ds.table_name or "record", subject_id), department_id=ds.owner_department_id,
           purpose="code status (扫码状态)",
           details={"type": ct.id, "dataset": ds.id, "fields": fields, "basis": basis_label(basis),
                    "rows": 0 if row is None else 1})
    if row is None:
        return "red", GONE
    values, _ = release_record(basis, dict(zip(fields, row, strict=True)), purpose=True)
    return evaluate(ct.definition, values, today or today_local())


def find(session: Session, payload: token.Payload) -> IssuedCode | None:
    return session.scalars(select(IssuedCode).where(IssuedCode.type_id == payload.type_id,
                                                    IssuedCode.subject_id == payload.subject_id)).first()


def scan(session: Session, *, keyring: Keyring, code: str, today: dt.date | None = None) -> dict[str, Any]:
    """What a scan shows: `state` valid / revoked / invalid; for a valid code the type, issuer,
    public card and the colour with its reason; for a revoked one red with the reason. An
    invalid code (altered, forged, unknown) learns nothing but why it is invalid."""
    try:
        payload = token.verify(code, public_keys(keyring))
    except token.BadCode as exc:
        return {"state": "invalid", "problem": exc.reason, "colour": "red"}
    row = find(session, payload)
    if row is None or row.signature != token.b64(token.parse(code)[1]) or row.kid != payload.kid:
        return {"state": "invalid", "problem": "not_issued", "colour": "red"}
    ct = code_type(session, row.type_id)
    dept = session.get(Department, row.issuer_department_id)
    view: dict[str, Any] = {
        "state": "valid", "type_id": ct.id, "family": {"zh": ct.family_zh, "en": ct.family_en},
        "title": {"zh": ct.title_zh, "en": ct.title_en},
        "issuer": {"zh": dept.name_zh, "en": dept.name_en} if dept else {"zh": row.issuer_department_id,
                                                                          "en": row.issuer_department_id},
        "issued_at": payload.issued_at.isoformat(), "card": public_card(session, ct, row.subject_id)}
    if row.revoked_at is not None:
        said = row.revoke_reason or ""
        return {**view, "state": "revoked", "colour": "red", "reason": {"zh": said, "en": said},
                "revoked_at": row.revoked_at.isoformat()}
    colour, reason = live_status(session, ct, row.subject_id, today=today)
    return {**view, "colour": colour, "reason": reason}


def scan_out(view: Mapping[str, Any]) -> dict[str, Any]:
    """The scan as the API returns it, texts in the caller's language."""
    out = dict(view)
    for key in ("family", "title", "issuer", "reason"):
        if isinstance(out.get(key), dict):
            out[key] = pick(out[key])
        elif key == "reason" and isinstance(out.get(key), str):
            out[key] = gettext(out[key])
    if "card" in out:
        out["card"] = [{**c, "title": pick(c["title"])} for c in out["card"]]
    return out


# --- revocation ---------------------------------------------------------------------------------


def by_id(session: Session, code_id: int) -> IssuedCode:
    row = session.get(IssuedCode, code_id)
    if row is None:
        raise NotFound(N_("No such code"))
    return row


def revoke(session: Session, *, principal: Principal, code_id: int, reason: str | None) -> IssuedCode:
    """Revoke a code: staff of the issuing department, with the reason (shown on every scan)."""
    access.require(principal, "task.decide")
    row = by_id(session, code_id)
    access.require_department(principal, row.issuer_department_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(N_("Give the reason for the revocation"), field="reason")
    if len(reason) > 500:
        raise Invalid(N_("This value is too long"), field="reason")
    if row.revoked_at is not None:
        raise Conflict(N_("This code is already revoked"), field="status")
    row.revoked_at, row.revoked_by, row.revoke_reason = utcnow(), principal.actor, reason
    session.flush()
    record(session, actor=principal.actor, actor_department=principal.department_id, action="code.revoke",
           subject=f"code:{row.id}", department_id=row.issuer_department_id,
           details={"code": row.id, "type": row.type_id, "reason": reason})
    return row


def revoked_entries(session: Session) -> list[dict[str, Any]]:
    """The revoked codes, for the signed revocation list (a contribution to `services.revocations`)."""
    rows = session.scalars(select(IssuedCode).where(IssuedCode.revoked_at.is_not(None))
                           .order_by(IssuedCode.type_id, IssuedCode.subject_id))
    return [{"kind": "code", "identifier": token.identifier(r.type_id, r.subject_id), "type": r.type_id,
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows]


def department_codes(session: Session, *, principal: Principal, type_id: str | None, limit: int,
                     cursor: str | None) -> tuple[list[IssuedCode], str | None]:
    """The codes the caller's department issued, newest first, paged."""
    access.require(principal, "task.decide")
    q = select(IssuedCode).where(access.scope(principal, department=IssuedCode.issuer_department_id))
    if type_id:
        q = q.where(IssuedCode.type_id == type_id)
    after = decode_cursor(cursor)
    if after:
        q = q.where(IssuedCode.id < after)
    rows = list(session.scalars(q.order_by(IssuedCode.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def code_dict(row: IssuedCode) -> dict[str, Any]:
    return {"id": row.id, "type": row.type_id, "subject_id": row.subject_id, "issuer": row.issuer_department_id,
            "issued_at": dt.datetime.fromtimestamp(row.issued_epoch, dt.UTC).isoformat(), "kid": row.kid,
            "code": code_string(row), "path": f"/c/{code_string(row)}",
            "status": "revoked" if row.revoked_at else "active",
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None, "revoke_reason": row.revoke_reason}


def qr(url: str, kind: str) -> bytes:
    """The QR code of `url` (error correction M), SVG or PNG — made on request, never stored."""
    import io

    import segno

    out = io.BytesIO()
    if kind == "svg":
        segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    else:
        segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    return out.getvalue()
