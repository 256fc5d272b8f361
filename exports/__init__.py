"""Auditors' exports: what is in one (build.py) and how it is written (files.py)."""
