"""The `screening/alerts.yaml` pack section: which policies are risk-monitoring rules
(返贫风险预警) and how severe their alerts are. The rules themselves are policies in
`policies/*.yaml`, written over `previous.` fields like any other policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field

from tongban.core.packs.loader import register_section
from tongban.core.packs.models import PackModel, RefersTo, SectionFile

ALERTS_FILE = "screening/alerts.yaml"


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


register_section("screening_alerts", AlertsFile, files=ALERTS_FILE, order=95,
                 description="Risk-monitoring rules (返贫风险预警) and their severity")
