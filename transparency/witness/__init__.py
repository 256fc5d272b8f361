"""A witness (C2SP tlog-witness): a small service of its own, with its own key and state,
that cosigns a log's checkpoint only when it extends the last one it cosigned.

  protocol.py  the add-checkpoint request and answers, parsed and written (server and client)
  client.py    asking a witness to cosign, for the log's sequencer
  state.py     the witness's memory: per log, the latest cosigned checkpoint, and evidence of splits
  server.py    the HTTP service `gridgov witness serve` runs
"""
