"""Entry points: the CLI now, the HTTP API next."""
