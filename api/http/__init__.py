"""The HTTP API (FastAPI): commands, queries, auth with district scopes."""
