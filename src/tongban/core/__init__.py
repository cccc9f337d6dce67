"""core: configuration, database, identity and access, audit chain, jobs, packs, i18n, time."""
