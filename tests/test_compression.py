"""The app serves /widget.js and /static/ gzip-compressed, with ETags and 304s."""

from __future__ import annotations

import gzip
from typing import Any

from .conftest import ROOT

WIDGET = (ROOT / "web" / "static" / "widget.js").read_bytes()
CSS = (ROOT / "web" / "static" / "demo.css").read_bytes()


def test_widget_js_is_gzipped_for_clients_that_accept_it(client: Any) -> None:
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == WIDGET
    assert len(response.data) < len(WIDGET) / 3
    assert "max-age=300" in response.headers["Cache-Control"]  # as before: new releases spread fast
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_widget_js_is_plain_for_clients_that_do_not_accept_gzip(client: Any) -> None:
    response = client.get("/widget.js")
    assert "Content-Encoding" not in response.headers and response.data == WIDGET


def test_a_known_etag_gets_a_304_with_or_without_gzip(client: Any) -> None:
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    again = client.get(
        "/widget.js", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/widget.js")
    assert plain.headers["ETag"] != zipped.headers["ETag"]
    assert (
        client.get("/widget.js", headers={"If-None-Match": plain.headers["ETag"]}).status_code
        == 304
    )


def test_static_files_are_gzipped_and_cached_for_a_week(client: Any) -> None:
    response = client.get("/static/demo.css", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == CSS
    assert "max-age=604800" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    revalidated = client.get(
        "/static/demo.css",
        headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]},
    )
    assert revalidated.status_code == 304
