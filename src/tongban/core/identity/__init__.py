"""Identity: regions, departments, roles, accounts (residents and staff), API clients, tokens."""
