"""Accounts and security: users, password hashing (argon2id), access and refresh tokens (JWT),
API keys, roles, login throttling, and users' own provider credentials encrypted at rest."""
