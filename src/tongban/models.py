"""Every table of every slice, for Alembic: each slice names its models module in its declaration
(core.slices), so this list keeps itself."""

from tongban.core import slices
from tongban.core.db import Base

slices.load_models()
metadata = Base.metadata
