# The engine's image, for docker-compose.yml: one image, one command per service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY projections projections
COPY consumers consumers
COPY api api
COPY eventlog eventlog
COPY gridgov gridgov
COPY transparency transparency
RUN pip install --no-cache-dir .
ENTRYPOINT ["gridgov"]
