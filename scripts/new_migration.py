"""Developer tool: autogenerate the next Alembic migration. Usage: new_migration.py URL MESSAGE REV_ID"""
import sys

from alembic import command

from tongban.core.db import Database
from tongban.core.migrate import alembic_config

db = Database(sys.argv[1])
cfg = alembic_config(db)
with db.engine.begin() as conn:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "heads")
    command.revision(cfg, message=sys.argv[2], autogenerate=True, rev_id=sys.argv[3])
