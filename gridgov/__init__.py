"""The engine put together: its settings, its composition root, its demo.

  settings.py   every variable the engine reads, with its default and meaning
  bootstrap.py  the composition root: builds the application, the stores, the feed and every long-running part
  sweep.py      the commands nobody gives by hand, given as the engine (lapsed claims and holds)
  demo.py       the demo's day in six Chengdu districts (`gridgov demo`)
  demo_words.py what the demo's people write: riders' reports of each kind, their notes when done, officers' answers
  layout.py     where the demo's districts and grids lie: squares cut in cells that tile them
  first_run.py  what `gridgov serve --demo` adds for someone trying the engine: the day, someone for each role
  city_day.py   the demo's story at the size of the city
  simulate.py   `gridgov simulate`: a day of the city through the real pipeline, measured
  supervised.py workers that end with the supervisor that started them
"""
