"""Every table of every layer, for Alembic. Each layer adds its models module here."""

import tongban.core.models  # noqa: F401
import tongban.datahub.models  # noqa: F401
import tongban.governance.models  # noqa: F401
import tongban.policy.models  # noqa: F401
import tongban.registry.models  # noqa: F401
import tongban.screening.models  # noqa: F401
import tongban.services.models  # noqa: F401
from tongban.core.db import Base

metadata = Base.metadata
