"""The entry points, and the only package nothing else imports (tests/unit/test_architecture.py):

  cli.py        the `gridgov` command line: serve, relay, consume, rebuild, verify, demo, simulate, tokens
  audit_cli.py  `gridgov audit …`: the transparency log's keys, sequencer, checkpoints and proofs
  http/         the HTTP API (FastAPI) and the pages it serves

Each asks gridgov.bootstrap, the composition root, for the parts it runs.
"""
