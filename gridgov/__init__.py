"""The engine put together: its settings, its composition root, its demo.

  settings.py   every variable the engine reads, with its default and meaning
  bootstrap.py  builds the application, the read-model store and the feed
  demo.py       the demo's day in six Chengdu districts (`gridgov demo`)
"""
