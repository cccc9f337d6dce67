"""`tongban policy …`: list, check, evaluate and explain policies as code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Policies as code (政策即代码): check, evaluate, explain.", no_args_is_help=True)

DEFAULT_PACK = "packs/demo"


def _policies(pack: str) -> Any:
    from tongban.core import cliutil
    from tongban.core.packs.loader import PackError
    from tongban.policy.parse import read_policies

    try:
        return read_policies(pack)
    except PackError as exc:
        for p in exc.problems:
            cliutil.err_console.print(str(p), highlight=False, markup=False)
        cliutil.fail(f"{len(exc.problems)} problem(s) in {pack}")


def _date(value: str) -> dt.date:
    from tongban.core import cliutil
    from tongban.core.i18n import N_, gettext

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        message = gettext(N_("Write the date as YYYY-MM-DD"))
        cliutil.fail(f"as_of: {message}")


def _lang(lang: str | None) -> str:
    from tongban.core.i18n import get_locale

    return lang or ("zh" if get_locale() == "zh_CN" else "en")


@app.command("list")
def list_cmd(pack: str = typer.Option(DEFAULT_PACK, help="A pack folder."),
             lang: str | None = typer.Option(None, help="zh or en.")) -> None:
    """List the policies of a pack with their unit, criteria and parameters."""
    from rich.table import Table

    from tongban.core import cliutil

    policies = _policies(pack)
    lg = _lang(lang)
    table = Table("id", "title", "unit", "criteria", "parameters", "benefit")
    for p in policies.policies:
        table.add_row(p.id, getattr(p.title, lg), p.unit, ", ".join(c.id for c in p.criteria),
                      ", ".join(p.parameters), p.benefit or "")
    cliutil.console.print(table)


@app.command("check")
def check_cmd(pack_dir: str = typer.Argument(..., help="A pack folder (or a folder of policy files).")) -> None:
    """Load the policies and report every problem with file, line, policy and criterion."""
    from tongban.core import cliutil

    policies = _policies(pack_dir)
    for warning in policies.warnings:
        cliutil.console.print(f"warning: {warning}", highlight=False, markup=False)
    cliutil.console.print(f"{len(policies.policies)} policies, {len(policies.parameters)} parameters: ok"
                          + (f", {len(policies.warnings)} warning(s)" if policies.warnings else ""))


@app.command("eval")
def eval_cmd(
    as_of: str = typer.Option(..., "--as-of", help="The as-of date, YYYY-MM-DD (Asia/Shanghai)."),
    region: str | None = typer.Option(None, help="Only subjects in this region (a division code prefix)."),
    views: str | None = typer.Option(None, help="A folder of view Parquet files (person, household, previous)."),
    registry: bool = typer.Option(False, help="Read the registry database in place through the exchange."),
    client: str | None = typer.Option(None, help="With --registry: the exchange client whose grants apply."),
    purpose: str = typer.Option("政策主动发现 proactive screening", help="With --registry: the stated purpose."),
    backend: str = typer.Option("polars", help="polars or duckdb (Parquet views); polars or postgres (--registry)."),
    pack: str = typer.Option(DEFAULT_PACK, help="A pack folder."),
    policy: list[str] = typer.Option([], help="Only these policies (and those they refer to)."),
    out: str | None = typer.Option(None, help="Write the per-subject results to this Parquet file."),
) -> None:
    """Evaluate policies for an as-of date and a region; print eligible counts per policy."""
    import polars as pl
    from rich.table import Table

    from tongban.core import cliutil
    from tongban.core.errors import TongbanError
    from tongban.core.i18n import gettext
    from tongban.policy.evaluate import BACKENDS, evaluate, evaluate_registry

    day = _date(as_of)
    if (views is None) == (not registry):
        cliutil.fail("views: give --views DIR or --registry")
    if backend not in BACKENDS or (registry and backend == "duckdb") or (not registry and backend == "postgres"):
        cliutil.fail("backend: polars or duckdb over --views; polars or postgres (SQL in the database) with --registry")
    policies = _policies(pack)
    if policy:
        try:
            policies = policies.subset(policy)
        except KeyError as exc:
            cliutil.fail(f"policy: unknown policy {exc.args[0]!r}")
    with cliutil.progress() as bar:
        task = bar.add_task("evaluating", total=3)
        bar.advance(task)
        if registry:
            from sqlalchemy import select

            from tongban.core.identity.models import ApiClient
            from tongban.core.identity.service import principal_for_client

            if client is None:
                cliutil.fail("client: --registry reads through the exchange as a client (--client ID)")
            with cliutil.unit_of_work() as session:
                row = session.scalar(select(ApiClient).where(ApiClient.client_id == client))
                if row is None or not row.active:
                    cliutil.fail(f"client: no active client {client!r}")
                result = evaluate_registry(session, principal=principal_for_client(row, None), policies=policies,
                                           as_of=day, region=region, purpose=purpose,
                                           backend="sql" if backend == "postgres" else "polars")
        else:
            assert views is not None
            if not (Path(views) / "person.parquet").is_file():
                cliutil.fail(f"views: {views} has no person.parquet")
            try:
                result = evaluate(policies, views, as_of=day, region=region, backend=backend)  # type: ignore[arg-type]
            except TongbanError as exc:
                cliutil.fail(f"{exc.field}: {gettext(exc.message)}")
        bar.advance(task)
        if out:
            result.write_parquet(out)
        bar.advance(task)
    summary = result.group_by("policy", maintain_order=True).agg(
        subjects=pl.len(), eligible=pl.col("eligible").sum(), amount_fen=pl.col("amount_fen").sum())
    table = Table("policy", "subjects", "eligible", "amount (yuan/month)")
    for r in summary.to_dicts():
        table.add_row(r["policy"], str(r["subjects"]), str(r["eligible"]), f"{(r['amount_fen'] or 0) / 100:,.2f}")
    cliutil.console.print(table)


def _show(value: Any, t: str, yuan: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if t == "money":
        return f"{value / 100:,.2f} {yuan}"
    return str(value)


@app.command("explain")
def explain_cmd(
    person_id: int = typer.Argument(..., help="The person (for a household policy: the person's household)."),
    policy_id: str = typer.Argument(..., help="The policy."),
    as_of: str = typer.Option(..., "--as-of", help="The as-of date, YYYY-MM-DD."),
    views: str = typer.Option(..., help="A folder of view Parquet files."),
    pack: str = typer.Option(DEFAULT_PACK, help="A pack folder."),
    lang: str | None = typer.Option(None, help="zh or en."),
) -> None:
    """Explain one case with the reference evaluator: each criterion, its values and threshold."""
    import polars as pl

    from tongban.core import cliutil
    from tongban.core.i18n import N_, gettext
    from tongban.policy import reference
    from tongban.policy.views import Snapshot

    day = _date(as_of)
    policies = _policies(pack)
    try:
        policy = policies.get(policy_id)
    except KeyError:
        cliutil.fail(f"policy: unknown policy {policy_id!r}")
    locale = {"zh": "zh_CN", "en": "en"}[_lang(lang)]
    t = lambda s: gettext(s, locale)  # noqa: E731
    snap = Snapshot.from_parquet(views)
    me = snap.person.filter(pl.col("id") == person_id).collect()
    if me.height == 0:
        no_person = t(N_("No such person"))
        cliutil.fail(f"person_id: {no_person}")
    hid = me["household_id"][0]
    persons = (snap.person.filter(pl.col("household_id") == hid) if hid is not None else snap.person.filter(
        pl.col("id") == person_id)).collect().to_dicts()
    households = snap.household.filter(pl.col("id") == hid).collect().to_dicts() if hid is not None else []
    ids = [p["id"] for p in persons]
    previous = snap.previous.filter(pl.col("id").is_in(ids)).collect().to_dicts() if snap.previous is not None else []
    ev = reference.Evaluator(policies.subset([policy_id]), reference.Population.of(persons, households, previous), day)
    subject = person_id if policy.unit == "person" else hid
    if subject is None:
        no_household = t(N_("The person belongs to no household"))
        cliutil.fail(f"person_id: {no_household}")
    ex = reference.explain(ev, policy_id, subject)
    lg = _lang(lang)
    yuan = t(N_("yuan"))
    label_as_of, label_basis = t(N_("As of")), t(N_("Legal basis"))
    label_value, label_threshold = t(N_("value")), t(N_("threshold"))
    label_amount, per_month = t(N_("Amount")), t(N_("yuan per month"))
    verdict = t(N_("Eligible")) if ex.eligible else t(N_("Not eligible"))
    cliutil.console.print(f"[bold]{getattr(policy.title, lg)}[/] ({policy.id}) — {verdict}", highlight=False)
    cliutil.console.print(f"{label_as_of} {day.isoformat()}; {label_basis}: {policy.legal_basis}",
                          highlight=False, markup=False)
    for item in ex.items:
        mark = "✔" if item.met else ("?" if item.value is None else "✘")
        state = t(N_("met")) if item.met else (t(N_("unknown: a value is missing")) if item.value is None
                                               else t(N_("not met")))
        cliutil.console.print(f" {mark} {getattr(item.description, lg)} — {state}", highlight=False, markup=False)
        cliutil.console.print(f"     {item.source}", highlight=False, markup=False, style="dim")
        for c in item.comparisons:
            cliutil.console.print(f"     {c.text}: {label_value} {_show(c.actual, c.type, yuan)}, "
                                  f"{label_threshold} {_show(c.threshold, c.type, yuan)}", highlight=False, markup=False)
    if ex.amount_fen is not None:
        cliutil.console.print(f"{label_amount}: {ex.amount_fen / 100:,.2f} {per_month}",
                              highlight=False)
