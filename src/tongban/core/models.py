"""Import every core table so Alembic and `Base.metadata` see them."""

from tongban.core.audit.models import AuditEvent, AuditHead
from tongban.core.identity.models import (
    Account,
    AccountRole,
    ApiClient,
    AuthToken,
    Department,
    PackRecord,
    Region,
    Role,
    SigningKey,
)
from tongban.core.jobs.models import Job, JobSchedule

__all__ = [
    "Account", "AccountRole", "ApiClient", "AuditEvent", "AuditHead", "AuthToken", "Department",
    "Job", "JobSchedule", "PackRecord", "Region", "Role", "SigningKey",
]
