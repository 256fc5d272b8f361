"""`/docs` with the outside network cut: Swagger UI comes from the app itself, so
the page renders every operation, and nothing it loads leaves the server; and
`/openapi.json` is a valid document of the version it declares, with the bearer
token as the security of every /v1 operation (the page's Authorize button)."""

from __future__ import annotations

import re

from tests.fixtures.browser import chromium
from tests.fixtures.http import Api

# Every request that is not to the server itself (loopback is never proxied) goes
# to a proxy that is not there.
NO_NETWORK = ("--proxy-server=http://127.0.0.1:9",)


def test_the_docs_page_names_only_its_own_assets(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/static/swagger-ui/") for a in assets), assets
    assert "http" not in page.text.replace("https://swagger.io", "")
    for asset in assets:
        assert api.client.get(asset).status_code == 200, asset
    assert api.client.get("/redoc").status_code == 404  # ReDoc would come from a CDN: there is none


def test_the_openapi_document_is_valid_and_asks_for_the_bearer_token(api: Api) -> None:
    from openapi_spec_validator import validate

    spec = api.client.get("/openapi.json").json()
    validate(spec)  # raises on any violation of the declared version's schema
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = [(path, op) for path, ops in spec["paths"].items() for op in ops.values()]
    assert all(op["security"] == [{"bearer": []}] for path, op in operations if path.startswith("/v1/"))


def test_every_operation_field_and_parameter_is_described_and_every_error_is_a_problem(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    undescribed = [f"{method} {path}" for path, ops in spec["paths"].items() for method, op in ops.items()
                   if not op.get("description")]
    parameters = [f"{path} {p['name']}" for path, ops in spec["paths"].items() for op in ops.values()
                  for p in op.get("parameters", []) if not p.get("description")]
    fields = [f"{name}.{field}" for name, schema in spec["components"]["schemas"].items()
              for field, prop in schema.get("properties", {}).items() if not prop.get("description")]
    assert (undescribed, parameters, fields) == ([], [], []), "describe them (api/http/glossary.py for fields)"
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not path.startswith("/v1/"):
                continue
            errors = {status: r for status, r in op["responses"].items() if status[0] in "45"}
            assert {"401", "403", "404", "422"} <= set(errors), f"{method} {path}"
            assert all(r["content"] == {"application/problem+json": {"schema": problem}} for r in errors.values())
    assert {"type", "title", "status", "detail"} <= set(spec["components"]["schemas"]["Problem"]["required"])


def test_the_docs_render_every_operation_without_the_network(server: tuple[str, Api]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    base, api = server
    operations = sum(len(path) for path in api.client.get("/openapi.json").json()["paths"].values())
    with chromium(*NO_NETWORK) as browser:
        browser.get(f"{base}/docs")
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script("return document.querySelectorAll('.opblock').length") == operations)
        assert "gridgov" in browser.find_element("css selector", ".info .title").text
        loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert loaded and all(url.startswith(base) for url in loaded), loaded
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
