"""What the registry slice brings to the app (entry point `tongban.slices`: registry)."""

from tongban.core.indicators import INDICATORS
from tongban.core.slices import Command, Contribution, Slice

SLICE = Slice(
    name="registry",
    order=10,
    models="tongban.registry.models",
    api=("tongban.registry.api:router",),
    pages=("tongban.registry.pages:router",),
    commands=(Command("registry", "tongban.registry.cli:app", "The base registries."),),
    pack_sections=("tongban.registry.pack_sections", "tongban.registry.geography"),
    reads={name: f"tongban.registry.reads:{name}" for name in (
        "person_of_account",
        "person",
        "person_that_exists",
        "person_by_id_number",
        "household_of",
        "household_members",
        "guardianship_in_force",
        "resident_accounts",
        "persons_by_address",
        "enrolments_in_force",
        "household_heads",
        "wards_of",
        "guardians_of",
        "id_numbers",
        "certificate",
        "certificate_that_exists",
        "certificate_by_public_id",
        "certificates_by_id",
        "certificates_held",
        "view_tables",
        "shapes",
        "household_points",
        "living_residents",
    )},
    writes={name: f"tongban.registry.writes:{name}" for name in (
        "allocate_resident_id",
        "register_birth",
        "enrol_benefit",
        "new_certificate",
        "put_in_wallet",
        "revoke_certificate",
    )},
    contributions=(Contribution(INDICATORS, "tongban.registry.indicators:INDICATORS"),),
)
