"""The audit chain: append-only, hash-linked, with signed checkpoints outside the database."""
