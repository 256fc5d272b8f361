"""The HTTP API (FastAPI): commands, queries, auth with district scopes.

  app.py           the application: one POST route per command, the routers below, the layers around them
  auth.py          bearer JWTs: who is calling, in what role, for which districts and grids (claims → Principal)
  provider_tokens.py  the identity provider's tokens (RS256/ES256) verified against its published keys (JWKS)
  callers.py       who is calling: the bearer token, else the pages' session cookie
  signin.py        the pages' sign-in under /auth: the provider's code flow (PKCE), sessions, CSRF, sign-out
  sessions.py      the server-side sessions (cookie ids kept hashed): in memory or in the read store's database
  provider_client.py  the engine as the provider's client: discovery, PKCE URLs, code and refresh grants, id tokens
  signin_pages.py  the sign-in's own small pages: the demo's chooser, a failure in words
  scoping.py       what a token may read: the one place every query route asks
  queries.py       the reads of the board, money, points, budgets, history, chains, statistics
  casework.py      clues, appeals, rate schedules, riders' profiles, a rider's own lists, the staff directory
  people.py        people by name beside their ids in every read (Names); riders masked (王*平) to most
  dashboards.py    what the pages look at beside the lists (grids, clue map, open tasks, subsidy per day)
  rewards.py       stations, catalogues, a partner's queue, redemptions, what was handed out
  open311_keys.py  a district's Open311 keys: issued by its admins (the secret shown once), listed
  photos.py        photos as evidence: the upload (multipart, a limit of its own), the JPEG and its thumbnail
  auditors.py      a district's audit export and its access log (AccessRecorder records every auditor's request)
  audit.py         the transparency log's checkpoints and proofs
  tiles.py         the transparency log as C2SP tlog-tiles under /tlog/: checkpoint, hash tiles, entry bundles
  subscription.py  the event log as Server-Sent Events (CloudEvents)
  operations.py    liveness, readiness, metrics, and waiting for a read model (read-your-writes)
  responses.py     the shapes of the answers (OF_READ_MODEL: each read model's)
  glossary.py      what each field and parameter means, for the OpenAPI document
  problems.py      errors as RFC 9457 problem details
  language.py      a problem's words in the caller's language
  paging.py        page cursors
  forms.py         raw UTF-8 in urlencoded forms and query strings read as UTF-8 (Utf8Forms)
  pages.py         the pages people work in (files in pages/), served with no build step
  docs.py          `/docs`: Swagger UI from the app itself (files in static/)
"""
