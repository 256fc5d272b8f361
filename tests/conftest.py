"""The fixtures every test can ask for, from tests/fixtures/ (one module per concern):

    stores.py   postgres_schema, sqlite_file, backend (memory, SQLite, PostgreSQL)
    apps.py     clock, app (once per backend), world
    http.py     api (the HTTP API through a TestClient)
    live.py     server (the HTTP API under uvicorn, read models following the log)
    cli.py      embedded (a demo day on SQLite files, for the command line)
    browser.py  browser (headless Chromium through selenium), chromium(*flags)
    kafka.py    topics_of_the_test (autouse: a test's topics are deleted after it)
    blobs.py    blob_stores (a maker of empty blob stores: memory, file, S3)
    keycloak.py keycloak (the OpenID Connect provider: people, their tokens, its keys)
    tlog.py     verifier (the outside verifier, Go, built once), grown (a signed log past a tile)
    lanes.py    --lane=fast (no outside services) and the `exclusive` marker of the full run
    proxied.py  proxied (two `gridgov serve` behind nginx, by scripts/proxy.sh; one per module)
    fastapi_fields.py  one validator per distinct route parameter (an app built in a third of the time)

PostgreSQL comes from scripts/postgres.sh (or POSTGRES_* settings); each test gets
a schema of its own, dropped afterwards. Locally a missing server skips those runs;
in CI (CI=true) it fails them, so a green CI always means both backends ran. So too
for Kafka, the S3 store and the OpenID Connect provider (scripts/keycloak.sh).
Plain helpers (World, START, Api, story, require_kafka, …) are imported from
tests.fixtures; no test module imports another.
"""

pytest_plugins = [
    "tests.fixtures.lanes",  # first: the other fixture modules import it
    "tests.fixtures.fastapi_fields",
    "tests.fixtures.stores",
    "tests.fixtures.apps",
    "tests.fixtures.http",
    "tests.fixtures.live",
    "tests.fixtures.cli",
    "tests.fixtures.browser",
    "tests.fixtures.kafka",
    "tests.fixtures.blobs",
    "tests.fixtures.keycloak",
    "tests.fixtures.jwks",
    "tests.fixtures.tlog",
    "tests.fixtures.proxied",
    "tests.fixtures.pg_pair",
    "tests.fixtures.cpu",
]
