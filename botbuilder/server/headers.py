"""Security headers on every response, set in this one place (`init_app` registers them).

Three kinds of response, three sets of headers (docs/security.md has the table):

- **Staff pages** (sign-in, editor, console, import/export): the strictest
  Content-Security-Policy — scripts and styles only from files on this site,
  no inline code, no plugins, never framed, forms post only here — and
  `Cache-Control: no-store`, because they show transcripts and accounts.
- **The demo page** at `/`, a host page for the widget: the same policy, except
  that styles may be inline. The widget builds its look as a `<style>` in its
  shadow root, and the host page's CSP governs that element like any other;
  the logo in bot.yml (`widget.logo`) may come from any address.
- **Everything else** (the widget API's JSON, `/widget.js`, static files):
  `nosniff`, and for JSON a policy that allows nothing, so a response opened as
  a page runs nothing. CORS stays as `api.py` and `pages.py` set it; the widget's
  script is marked loadable from any origin (`Cross-Origin-Resource-Policy`).

Every HTML page also gets `X-Frame-Options: DENY`, `Cross-Origin-Opener-Policy:
same-origin` and a Permissions-Policy that turns off what botbuilder never uses.
Over HTTPS, `Strict-Transport-Security` tells browsers to stay on it.
"""

from __future__ import annotations

from flask import Flask, Response, request

from botbuilder.server.auth import STAFF_BLUEPRINTS

__all__ = ["DEMO_POLICY", "JSON_POLICY", "STAFF_POLICY", "init_app", "security_headers"]

_COMMON = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
STAFF_POLICY = (
    f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; {_COMMON}"
)
# 'unsafe-inline' for styles only: the widget's shadow-root <style>. Scripts stay strict.
DEMO_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src * data:; {_COMMON}"
)
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
_WIDGET_HOST_PAGES = {"pages.demo"}
_CROSS_ORIGIN_FILES = {"pages.widget_script"}
_HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Add the headers to every response of `app`."""
    app.after_request(security_headers)


def security_headers(response: Response) -> Response:
    """The headers for this request's kind of response (see the module docstring)."""
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", _HSTS)
    staff = request.blueprint in STAFF_BLUEPRINTS
    if staff:
        headers["Cache-Control"] = "no-store"
    mimetype = response.mimetype  # parsed from Content-Type on every read
    if mimetype == "text/html":
        widget_host = request.endpoint in _WIDGET_HOST_PAGES
        headers["Content-Security-Policy"] = DEMO_POLICY if widget_host else STAFF_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        # Staff pages carry conversation ids in their addresses: tell no other site.
        referrer = "strict-origin-when-cross-origin" if widget_host else "same-origin"
        headers["Referrer-Policy"] = referrer
    elif mimetype == "application/json":
        headers.setdefault("Content-Security-Policy", JSON_POLICY)
        headers.setdefault("Referrer-Policy", "no-referrer")
    if request.endpoint in _CROSS_ORIGIN_FILES:
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
