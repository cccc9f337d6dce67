"""What the policy language brings to the app (entry point `tongban.slices`: policy)."""

from tongban.core.slices import Command, Slice

SLICE = Slice(
    name="policy",
    order=40,
    models="tongban.policy.models",
    commands=(Command("policy", "tongban.policy.cli:app", "Policies as code (政策即代码): check, evaluate, explain."),),
    pack_sections=("tongban.policy.pack_sections",),
)
