"""The grid-governance domain: aggregates, their events and commands, the rules
they keep and the errors they raise. It imports nothing of this project's other
packages (tests/unit/test_architecture.py); the service that runs commands is in
`application/`, the adapters in `eventlog/`, `api/` and `consumers/`.
"""
