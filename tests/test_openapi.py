"""The server serves its OpenAPI document, and the document names every public route.

Every route under /api/v1, /health and /ready is in web/openapi.yaml with exactly its
methods, and every path of the document is a route: a route added or dropped
in `server/` fails here until the document says so too. HEAD is left out
(Flask answers it for every GET); OPTIONS counts only where a view declares it
itself, for the CORS preflight of the widget API.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .conftest import ROOT

DOCUMENT = yaml.safe_load((ROOT / "web" / "openapi.yaml").read_text(encoding="utf-8"))
PUBLIC = ("/api/v1/", "/health", "/ready")


def _routes(app: Any) -> dict[str, set[str]]:
    """Flask's public routes as OpenAPI paths (`<int:id>` → `{id}`) and their methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PUBLIC):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods or ()} - {"head"}
        if rule.provide_automatic_options:
            methods.discard("options")
        routes.setdefault(path, set()).update(methods)
    return routes


def _documented() -> dict[str, set[str]]:
    verbs = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {path: set(item) & verbs for path, item in DOCUMENT["paths"].items()}


def test_every_public_route_is_in_the_document_with_its_methods(app: Any) -> None:
    routes, documented = _routes(app), _documented()
    assert set(routes) - set(documented) == set(), "routes missing from openapi.yaml"
    for path, methods in routes.items():
        assert methods == documented[path], f"{path}: served {methods}, documented"


def test_every_documented_path_is_a_route(app: Any) -> None:
    assert set(_documented()) - set(_routes(app)) == set(), "documented paths nobody serves"


def test_the_document_is_served_as_json_to_anyone(client: Any) -> None:
    response = client.get("/api/v1/openapi.json", headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == yaml.safe_load((ROOT / "web" / "openapi.yaml").read_text("utf-8"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
