"""`tongban datahub …`: the operator's view of the catalog, the sharing requests (with their
waiting times) and the grants, and an emergency revocation. Departments use the API."""

from __future__ import annotations

import statistics

import typer
from rich.table import Table
from sqlalchemy import select

from tongban.core import cliutil
from tongban.core.cliutil import console

app = typer.Typer(help="The data hub: catalog, sharing requests, grants.", no_args_is_help=True)

SHARING_ZH = {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}
OPENING_ZH = {"open": "无条件开放", "restricted": "受限开放", "closed": "禁止开放"}


@app.command("datasets")
def datasets_cmd(
    q: str | None = typer.Option(None, help="Words in the title, description or id."),
    owner: str | None = typer.Option(None, help="An owner department id, e.g. dept.haishu.police."),
) -> None:
    """List catalog entries with owner, sharing and opening terms and the grades of their fields."""
    from tongban.datahub.catalog import fields_of
    from tongban.datahub.models import Dataset

    with cliutil.unit_of_work() as session:
        query = select(Dataset).order_by(Dataset.id)
        if owner:
            query = query.where(Dataset.owner_department_id == owner)
        if q:
            like = f"%{q.strip()}%"
            query = query.where(Dataset.title_zh.like(like) | Dataset.title_en.ilike(like)
                                | Dataset.description_zh.like(like) | Dataset.id.like(like))
        table = Table(title="catalog (数据资源目录)")
        for col in ("id", "title", "owner", "sharing", "opening", "fields by grade", "updated"):
            table.add_column(col, no_wrap=col in ("id", "owner", "sharing"))
        n = 0
        for ds in session.scalars(query):
            grades = [f.grade for f in fields_of(session, ds.id)]
            by_grade = " ".join(f"L{g}×{grades.count(g)}" for g in range(1, 5) if grades.count(g))
            table.add_row(ds.id, ds.title_zh, ds.owner_department_id, SHARING_ZH.get(ds.sharing_type, ds.sharing_type),
                          OPENING_ZH.get(ds.opening_type, ds.opening_type), by_grade, ds.update_frequency)
            n += 1
    console.print(table)
    console.print(f"{n} datasets")


@app.command("show")
def show_cmd(dataset_id: str = typer.Argument(..., help="A dataset id, e.g. ds.person.")) -> None:
    """One catalog entry and its fields (type, grade, personal-information flag, mask, filterable)."""
    from tongban.datahub.catalog import fields_of, get_dataset

    with cliutil.unit_of_work() as session:
        ds = get_dataset(session, dataset_id)
        console.print(f"[bold]{ds.id}[/] {ds.title_zh} / {ds.title_en} (version {ds.version})")
        console.print(f"owner {ds.owner_department_id}; source {ds.source_system or '—'}; "
                      f"updated {ds.update_frequency}; {SHARING_ZH[ds.sharing_type]}; {OPENING_ZH[ds.opening_type]}")
        if ds.legal_basis:
            console.print(f"legal basis: {ds.legal_basis}")
        table = Table()
        for col in ("field", "title", "type", "grade", "personal", "mask", "filterable"):
            table.add_column(col, no_wrap=col in ("field", "grade"))
        for f in fields_of(session, ds.id):
            table.add_row(f.name, f.title_zh, f.type, f"L{f.grade}", "yes" if f.personal else "",
                          f.mask or "", "yes" if f.filterable else "")
    console.print(table)


@app.command("requests")
def requests_cmd(
    status: str | None = typer.Option(None, help="pending, approved or rejected (default: all)."),
) -> None:
    """Sharing requests with their waiting time (request → decision), and the median wait of decided ones."""
    from tongban.core.timeutil import utcnow
    from tongban.datahub.models import SharingRequest

    if status not in (None, "pending", "approved", "rejected"):
        cliutil.fail("status: one of pending, approved, rejected")
    now = utcnow()
    waits: list[int] = []
    table = Table(title="sharing requests (共享申请)")
    for col in ("id", "dataset", "consumer", "fields", "status", "waited", "reason"):
        table.add_column(col, no_wrap=col in ("dataset", "consumer", "status", "waited"))
    with cliutil.unit_of_work() as session:
        query = select(SharingRequest).order_by(SharingRequest.id)
        if status:
            query = query.where(SharingRequest.status == status)
        for r in session.scalars(query):
            waited = r.wait_seconds if r.wait_seconds is not None else int((now - r.created_at).total_seconds())
            if r.wait_seconds is not None and r.decided_by != "system:unconditional":
                waits.append(r.wait_seconds)
            table.add_row(str(r.id), r.dataset_id, r.consumer_department_id, ", ".join(r.fields), r.status,
                          _duration(waited) + ("" if r.wait_seconds is not None else " (waiting)"),
                          r.decision_reason or "")
    console.print(table)
    if waits:
        console.print(f"decided by a steward: {len(waits)}; median wait {_duration(int(statistics.median(waits)))}")


@app.command("grants")
def grants_cmd(
    department: str | None = typer.Option(None, help="Only grants held by this consumer department."),
    all_: bool = typer.Option(False, "--all", help="Also expired and revoked grants."),
) -> None:
    """Grants (共享授权) with their fields, clear-text fields, validity and status."""
    from tongban.datahub.models import Grant
    from tongban.datahub.sharing import grant_status

    table = Table(title="grants (共享授权)")
    for col in ("id", "dataset", "consumer", "fields", "clear", "valid to", "status"):
        table.add_column(col, no_wrap=col in ("dataset", "consumer", "status"))
    with cliutil.unit_of_work() as session:
        query = select(Grant).order_by(Grant.id)
        if department:
            query = query.where(Grant.consumer_department_id == department)
        for g in session.scalars(query):
            state = grant_status(g)
            if state != "live" and not all_:
                continue
            table.add_row(str(g.id), g.dataset_id, g.consumer_department_id, ", ".join(g.fields),
                          ", ".join(g.clear_fields), f"{g.valid_to:%Y-%m-%d %H:%M}", state)
    console.print(table)


@app.command("revoke")
def revoke_cmd(
    grant_id: int = typer.Argument(..., help="The grant's id (see `tongban datahub grants`)."),
    reason: str = typer.Option(..., help="Why (recorded in the audit chain)."),
) -> None:
    """Revoke a grant now (emergency stop); the next exchange call on it is refused."""
    from tongban.datahub.sharing import revoke_by_operator

    with cliutil.unit_of_work() as session:
        g = revoke_by_operator(session, grant_id=grant_id, reason=reason)
        what = f"grant {g.id} ({g.dataset_id} → {g.consumer_department_id})"
    console.print(f"revoked {what}")


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
