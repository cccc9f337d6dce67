"""What `core` brings to the app (entry point `tongban.slices`: core)."""

from tongban.core.slices import Command, Slice

SLICE = Slice(
    name="core",
    order=0,
    models="tongban.core.models",
    commands=(
        Command("migrate", "tongban.core.commands:migrate_cmd", "Bring the database schema to the newest migration."),
        Command("user", "tongban.core.commands:user_app", "Accounts (residents and staff)."),
        Command("client", "tongban.core.commands:client_app", "API clients of departments."),
        Command("audit", "tongban.core.audit.cli:app", "The audit chain."),
        Command("keys", "tongban.core.keys_cli:app", "Signing keys (audit checkpoints, certificates, codes)."),
        Command("jobs", "tongban.core.jobs.cli:app", "Background jobs."),
        Command("worker", "tongban.core.jobs.cli:worker",
                "Run background jobs (deadline warnings, notifications, screening runs, audit sealing)."),
        Command("pack", "tongban.core.packs.cli:app", "Content packs."),
        Command("calendar", "tongban.core.workdays.cli:app", "Working-day schedules per year (放假安排, 调休)."),
        Command("storage", "tongban.core.blobs:app", "Uploaded files (blobs)."),
    ),
    jobs=("tongban.core.jobs.builtin", "tongban.core.blobs"),
    pack_sections=("tongban.core.packs.sections", "tongban.core.workdays.pack_sections"),
)
