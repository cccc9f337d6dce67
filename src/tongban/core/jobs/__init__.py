"""Background jobs: a database-backed queue shared by every later feature."""
