"""The entry points, and the only package nothing else imports (tests/unit/test_architecture.py):

  cli.py        the `gridgov` command line: serve, relay, consume, rebuild, verify, demo, simulate, tokens
  audit_cli.py  `gridgov audit …`: the transparency log's keys, sequencer, checkpoints and proofs
  audit_mirror.py  `gridgov audit mirror URL DIR`: an auditor's copy of the log's tiles, every root checked
  witness_cli.py  `gridgov witness …`: a witness's key, its service, the evidence it kept
  backup_cli.py `gridgov backup FILE` / `gridgov restore FILE`: the event store in one file, and back
  http/         the HTTP API (FastAPI) and the pages it serves
  open311/      Open311 GeoReport v2 under /open311/v2: a facade over the same commands and reads

Each asks gridgov.bootstrap, the composition root, for the parts it runs.
"""
