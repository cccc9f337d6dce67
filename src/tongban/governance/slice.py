"""What data governance brings to the app (entry point `tongban.slices`: governance)."""

from tongban.core.i18n import N_
from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Link, Slice

SLICE = Slice(
    name="governance",
    order=30,
    models="tongban.governance.models",
    api=("tongban.governance.api:router",),
    pages=("tongban.governance.pages:router",),
    commands=(
        Command("quality", "tongban.governance.cli:app", "Data quality (数据质量): rules, runs, issues, scores."),
        Command("dcat", "tongban.governance.cli:dcat_cmd",
                "The catalog as DCAT-AP: JSON-LD (context inlined) or CSV. Public by default (no 禁止开放).",
                parent="datahub"),
    ),
    jobs=("tongban.governance.quality",),
    pack_sections=("tongban.governance.pack_sections",),
    contributions=(
        Contribution(INDICATORS, "tongban.governance.indicators:INDICATORS"),
        Contribution("web.workbench_tiles", Link("quality", N_("Data quality"),
                                                 N_("Problems found in your department's data, and their rectification"),
                                                 "/workbench/quality", ("quality.run", "quality.rectify")), 50),
        # The catalog (the data hub's) shows each dataset's quality score and its history.
        Contribution("datahub.quality_scores", "tongban.governance.quality:latest_scores"),
        Contribution("datahub.quality_history", "tongban.governance.quality:score_history"),
    ),
)
