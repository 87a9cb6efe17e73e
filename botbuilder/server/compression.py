"""gzip, ETag and cache headers for `/widget.js` and `/static/`, served by the app itself.

waitress compresses nothing, so without a proxy in front the widget would cross
the wire at full size. A client that accepts gzip gets the file compressed once
and kept in memory, keyed by path and the file's ETag (a changed file has a new
one); its own ETag is the file's with `-gzip` added, so `If-None-Match` answers
304 for either form. Static files may be cached for a week and revalidated by
ETag after; `/widget.js` keeps its own short max-age (pages.py), so a new
release reaches every site within minutes.
"""

from __future__ import annotations

import gzip
import threading

from flask import Response, request

__all__ = ["STATIC_MAX_AGE", "compress_files"]

STATIC_MAX_AGE = 7 * 24 * 3600  # seconds; unversioned file names, so a week, then revalidate
_FILES = {"static", "pages.widget_script"}
_COMPRESSIBLE = {
    "text/javascript",
    "application/javascript",
    "text/css",
    "text/html",
    "text/plain",
    "application/json",
    "image/svg+xml",
}
_KEEP = 64  # compressed files kept in memory; the cache is emptied when full
_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def compress_files(response: Response) -> Response:
    """After a file route: cache headers, then gzip it if the client accepts that."""
    if request.endpoint not in _FILES:
        return response
    if request.endpoint == "static" and response.status_code in (200, 304):
        response.cache_control.public = True
        response.cache_control.max_age = STATIC_MAX_AGE
    if response.status_code not in (200, 304) or response.mimetype not in _COMPRESSIBLE:
        return response
    response.vary.add("Accept-Encoding")
    etag, _ = response.get_etag()
    if response.status_code != 200 or etag is None or not request.accept_encodings["gzip"]:
        return response
    return _gzipped(response, etag)


def _gzipped(response: Response, etag: str) -> Response:
    zipped_etag = f"{etag}-gzip"
    if request.if_none_match.contains(zipped_etag):
        response.close()
        response.set_data(b"")
        response.status_code = 304
        response.set_etag(zipped_etag)
        return response
    key = (request.path, etag)
    body = _cache.get(key)
    response.direct_passthrough = False
    if body is None:
        body = gzip.compress(response.get_data(), compresslevel=9, mtime=0)
        with _lock:
            if len(_cache) >= _KEEP:
                _cache.clear()
            _cache[key] = body
    response.close()
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)
    response.set_etag(zipped_etag)
    return response
