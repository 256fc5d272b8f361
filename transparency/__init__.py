"""A transparency log over every stored event, for the committees that audit the
subsidy history: the events as leaves of a Merkle tree (RFC 9162 §2.1), so an
outsider can check that a history they were shown is complete and unaltered.

  merkle.py       the tree's hashing, inclusion and consistency proofs, and their checks
  leaves.py       what a leaf is: one stored event, as bytes recomputable from its row
  store.py        where the tree is kept: in the event store's own database
  sequencer.py    puts every stored event into the tree, in log order, durably
  proofs.py       roots and proofs from the stored tree
  checkpoints.py  signed checkpoints (C2SP tlog-checkpoint, Ed25519 signed notes)
  cosignature.py  witnesses' cosignatures on checkpoints (C2SP tlog-cosignature, cosignature/v1)
  witness/        a witness: the add-checkpoint protocol, its client, state and server
  log.py          the log as the engine offers it: sequencer, checkpoints, proofs
  witnessing.py   the log collects cosignatures: each checkpoint offered to its witnesses, k of n
  tiles.py        the tree as C2SP tlog-tiles: tile paths, hash tiles and entry bundles from the store
  verify.py       `gridgov audit verify`: the whole tree recomputed from the stored rows
  verifier/       an outside verifier in Go (transparency-dev/merkle), for the tests
"""
