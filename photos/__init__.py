"""Photos as evidence: the bytes a rider's photo is kept as, and where.

  blobs.py      BlobStore, the contract every store keeps (put, get, delete, names), and the file store under var/
"""
