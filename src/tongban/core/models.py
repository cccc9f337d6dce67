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
from tongban.core.workdays.models import CalendarYear

__all__ = [
    "Account", "AccountRole", "ApiClient", "AuditEvent", "AuditHead", "AuthToken", "CalendarYear", "Department",
    "Job", "JobSchedule", "PackRecord", "Region", "Role", "SigningKey",
]
