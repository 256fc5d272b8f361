# The engine's image, for docker-compose.yml: one image, one command per service.
# Python 3.11, as the tests run; a patch release pinned (tests/unit/test_compose.py checks the minor).
FROM python:3.11.14-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
# Every package pyproject.toml names (tests/unit/test_compose.py checks the list).
COPY domain domain
COPY application application
COPY eventlog eventlog
COPY photos photos
COPY projections projections
COPY transparency transparency
COPY exports exports
COPY consumers consumers
COPY gridgov gridgov
COPY api api
RUN pip install --no-cache-dir .
# Not root. The folders compose mounts its key volumes on belong to this user, so a fresh
# named volume takes that owner.
RUN useradd --create-home --uid 10001 gridgov \
    && mkdir -p /audit-key /witness /keys /erasures /backups \
    && chown gridgov /app /audit-key /witness /keys /erasures /backups
USER gridgov
ENTRYPOINT ["gridgov"]
