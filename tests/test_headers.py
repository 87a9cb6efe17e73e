"""Security headers through Flask's test client: every page, the demo site, the widget's
script and the API carry the headers docs/security.md lists; CORS stays as it was.

The browser half (the editor, console and widget still work under the policy, and
report no violation) is in tests/browser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .test_editor import login

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]
ALLOWED = "https://allowed.example"  # widget.allowed_origins of tests/fixtures/small_bot


def _policy(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def _sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    login(client, email)
    return client


@pytest.fixture
def header_app(app_factory, bot_dir: Path):  # type: ignore[no-untyped-def]
    app = app_factory(bot_dir)
    accounts = app.extensions["botbuilder"].accounts
    accounts.add("admin@example.org", PASSWORD, "admin")
    accounts.add("agent@example.org", PASSWORD, "agent")
    yield app
    app.extensions["botbuilder"].storage.close()


def _staff_pages(app: Any) -> list[str]:
    """Every GET page without path arguments on the login, editor, console and transfer areas."""
    staff = {"auth", "editor", "console", "transfer", "insights"}
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint.split(".")[0] in staff
        and "/api/" not in rule.rule
        and not rule.rule.endswith("/export")
    )


def assert_strict_page(response: Any, where: str) -> None:
    policy = _policy(response)
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("script-src") == ["'self'"], where
    assert policy.get("style-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("base-uri") == ["'none'"], where
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("form-action") == ["'self'"], where
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"], where
    assert response.headers["X-Frame-Options"] == "DENY", where
    assert response.headers["X-Content-Type-Options"] == "nosniff", where
    assert response.headers["Referrer-Policy"] == "same-origin", where
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert "camera=()" in response.headers["Permissions-Policy"], where
    assert response.headers["Cache-Control"] == "no-store", where


def test_every_staff_page_gets_the_strict_policy_and_is_never_cached_or_framed(header_app):
    admin = _sign_in(header_app, "admin@example.org")
    pages = _staff_pages(header_app)
    assert {"/login", "/editor/", "/console", "/editor/transfer"} <= set(pages), pages
    pages += ["/editor/intent?file=faq.yml&id=opzeggen", "/editor/history?file=faq.yml"]
    checked = []
    for path in pages:
        response = admin.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        if response.mimetype == "text/html" and response.status_code == 200:
            assert_strict_page(response, path)
            checked.append(path)
    assert "/editor/intent?file=faq.yml&id=opzeggen" in checked
    assert len(checked) >= 6, checked


def test_login_page_and_agent_console_carry_the_headers_before_and_after_signing_in(header_app):
    assert_strict_page(header_app.test_client().get("/login"), "/login, signed out")
    agent = _sign_in(header_app, "agent@example.org")
    assert_strict_page(agent.get("/console"), "/console")
    refused = agent.get("/editor/")  # an agent may not edit: the refusal is a page too
    assert refused.status_code == 403
    assert_strict_page(refused, "/editor/ refused")


def test_staff_json_is_not_cached_and_not_sniffed(header_app):
    agent = _sign_in(header_app, "agent@example.org")
    response = agent.get("/console/api/queue")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _policy(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def test_demo_page_lets_the_widget_style_itself_but_runs_no_inline_script(header_app):
    response = header_app.test_client().get("/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    # The widget's look is a <style> in its shadow root, which this policy governs.
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["img-src"] == ["*", "data:"]  # widget.logo may be any address
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "<style" not in response.text and "<script>" not in response.text


def test_widget_script_stays_loadable_from_any_origin(header_app):
    response = header_app.test_client().get("/widget.js", headers={"Origin": "https://any.example"})
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Frame-Options" not in response.headers


def test_widget_api_keeps_its_cors_and_is_neither_cached_nor_sniffed(header_app):
    client = header_app.test_client()
    preflight = client.options(
        "/api/v1/conversations",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    started = client.post("/api/v1/conversations", json={}, headers={"Origin": ALLOWED})
    assert started.status_code == 201
    assert started.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert started.headers["Cache-Control"] == "no-store"  # transcripts are personal data
    assert started.headers["X-Content-Type-Options"] == "nosniff"
    assert _policy(started) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    refused = client.post(
        "/api/v1/conversations", json={}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    config = client.get("/api/v1/widget-config", headers={"Origin": "https://any.example"})
    assert config.headers["Access-Control-Allow-Origin"] == "*"
    assert config.headers["X-Content-Type-Options"] == "nosniff"


def test_errors_and_static_files_are_not_sniffed(header_app):
    client = header_app.test_client()
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["X-Content-Type-Options"] == "nosniff"
    assert _policy(missing)["default-src"] == ["'none'"]
    script = client.get("/static/editor/editor.js")
    assert script.status_code == 200
    assert script.headers["X-Content-Type-Options"] == "nosniff"


def test_https_requests_are_told_to_stay_on_https(header_app):
    client = header_app.test_client()
    secure = client.get("/login", base_url="https://bot.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in client.get("/login").headers


# A <script type="application/json"> is data for a script file, never run: the CSP allows it.
INLINE = re.compile(
    r'<script(?![^>]*\b(?:src=|type="application/json"))[^>]*>|<style\b|\son[a-z]+\s*=|\sstyle\s*=|javascript:',
    re.IGNORECASE,
)


def test_templates_hold_no_inline_script_style_or_event_handler():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "web" / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE.search(line)
    ]
    assert not found, "a strict CSP blocks these; move them to web/static:\n" + "\n".join(found)
