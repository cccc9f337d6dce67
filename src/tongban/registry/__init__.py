"""registry: the base libraries (基础库) — persons, households, entities, addresses, incomes,
assets, benefit enrolments, the certificate wallet and administrative divisions."""
