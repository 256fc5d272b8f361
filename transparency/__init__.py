"""A transparency log over every stored event, for the committees that audit the
subsidy history: the events as leaves of a Merkle tree (RFC 9162 §2.1), so an
outsider can check that a history they were shown is complete and unaltered.

  merkle.py   the tree's hashing, inclusion and consistency proofs, and their checks
"""
