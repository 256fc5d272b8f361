"""Auditors' exports (docs/audit.md):

  build.py  what is in one: a district's awards of some months with whole chains, payouts, totals
  files.py  how it is written: an XLSX workbook or a ZIP of CSVs, with the signed checkpoint
  names.py  who and where by name: riders masked, grids and staff by name
  words.py  a step in words, amounts in ¥ text, the photos' hashes
"""
