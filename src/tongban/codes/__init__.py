"""Codes (码) as identities: 浙农码, 安心码, 人才码, 出租房一码通 — signed, with a live status."""
