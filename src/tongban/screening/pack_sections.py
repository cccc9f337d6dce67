"""Two pack sections of screening: `monitoring/*.yaml`, the risk-monitoring rules (返贫风险预警)
written in the policy language over `previous.` fields (the same file format as
`policies/*.yaml`, kept apart so the pack's programme policies stay what they are), and
`screening/alerts.yaml`, which of them raise alerts and how severe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field

from tongban.core.packs.loader import Pack, PackError, PackFile, Problem, register_section
from tongban.core.packs.models import PackModel, RefersTo, SectionFile

ALERTS_FILE = "screening/alerts.yaml"
MONITORING_FILES = "monitoring/*.yaml"


class AlertRuleDecl(PackModel):
    policy: Annotated[str, RefersTo("policy")]
    severity: Literal["high", "medium", "low"]


class AlertsFile(SectionFile):
    alerts: list[AlertRuleDecl] = Field(default_factory=list)


def read_alert_rules(root: Path) -> dict[str, str]:
    """policy id → severity, from `screening/alerts.yaml` under a pack (or policy) folder."""
    path = Path(root) / ALERTS_FILE
    if not path.is_file():
        return {}
    model = AlertsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return {a.policy: a.severity for a in model.alerts}


def read_monitoring_rules(root: Path) -> Any:
    """The monitoring rules under a pack (or policy) folder as a PolicySet (None: there are none)."""
    from tongban.policy.parse import read_policy_files

    files = sorted((Path(root) / "monitoring").glob("*.yaml"))
    return read_policy_files(files, base=root) if files else None


def check_monitoring(pf: PackFile, pack: Pack) -> Iterator[Problem]:
    """Each rule file must build: expressions typed against the views, as for policies."""
    from tongban.policy.parse import read_policy_files

    try:
        read_policy_files([pack.root / pf.path], base=pack.root)
    except PackError as exc:
        yield from (p for p in exc.problems if p.file == pf.path)


def apply_monitoring(session: Any, files: list[PackFile], pack: Pack) -> Any:
    """Keep each rule's digest for this pack version, as for the policies (`policy.digests`)."""
    from tongban.policy import digests
    from tongban.policy.parse import read_policy_files

    rules = read_policy_files([pack.root / pf.path for pf in files], base=pack.root)
    return digests.record(session, pack_id=pack.id, version=pack.version, policies=rules)


def _register_monitoring() -> None:
    from tongban.policy.parse import PolicyFile

    register_section("monitoring", PolicyFile, files=MONITORING_FILES, check=check_monitoring,
                     apply=apply_monitoring, order=92,
                     description="Risk-monitoring rules in the policy language (返贫风险预警)")


_register_monitoring()
register_section("screening_alerts", AlertsFile, files=ALERTS_FILE, order=95,
                 description="Risk-monitoring rules (返贫风险预警) and their severity")
