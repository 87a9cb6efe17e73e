"""Handoff teams for admins (/admin/teams) through Flask's test client on real files:
a change is written to bot.yml by FlowEditor.save with its comments kept and lands in
the History under the admin's name; bad input is shown next to its field and nothing is
written; the webhook stays a secret; and the bot's handoffs follow the new hours.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from botbuilder.content.texts import system_text
from tests.test_editor import PASSWORD, login

BOT_YML = """\
# The test club's settings.
name: Testvereniging
language: nl
languages: [nl, en]
greeting:
  nl: Hoi! Waar kan ik je mee helpen?
  en: Hi! How can I help?

handoff:
  teams:
    # The membership office.
    leden:
      hours: {mon-fri: "09:00-17:00"}  # office hours
    # Night owls.
    nacht:
      hours: {mon-sun: "00:00-00:01"}

  # What members see when nobody is there.
  offline_message: We zijn er weer op maandag om 9:00. Laat je e-mail achter.

# The chat window.
widget:
  title: Vraag het ons
  allowed_origins: [https://allowed.example]
"""
SECRET_HOOK = "https://hooks.example.org/services/T000/B000/s3cr3t-t0ken"


@pytest.fixture
def teams_app(app_factory: Any, bot_dir: Path) -> Any:
    (bot_dir / "bot.yml").write_text(BOT_YML, encoding="utf-8")
    app = app_factory(bot_dir)
    app.extensions["botbuilder"].accounts.add("admin@example.org", PASSWORD, "admin")
    app.extensions["botbuilder"].accounts.add("manager@example.org", PASSWORD, "manager")
    yield app
    app.extensions["botbuilder"].storage.close()


@pytest.fixture
def admin(teams_app: Any) -> Any:
    client = teams_app.test_client()
    client.csrf = login(client, "admin@example.org")
    return client


def _bot_yml(app: Any) -> str:
    return (Path(app.config["FLOWS_DIR"]) / "bot.yml").read_text(encoding="utf-8")


def _team(client: Any, path: str, **fields: Any) -> Any:
    """Post the team form as a browser would: every day's inputs, empty unless given."""
    data: dict[str, Any] = {"csrf_token": client.csrf, "timezone": "Europe/Amsterdam"}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        data.update({f"{day}_from": "", f"{day}_to": "", f"{day}_more": ""})
    data["closed_days"] = ["", ""]
    data.update(fields)
    return client.post(path, data=data)


def _problem(page: str, field: str) -> str:
    found = re.search(rf'class="field-problem error"[^>]*data-field="{field}">([^<]*)<', page)
    assert found, f"no problem shown next to {field}"
    return html.unescape(found.group(1))


def test_an_added_team_is_written_to_bot_yml_with_its_comments_and_in_the_history(
    teams_app: Any, admin: Any
) -> None:
    response = _team(
        admin,
        "/admin/teams/new",
        name="weekend",
        sat_from="10:00",
        sat_to="16:00",
        sun_from="10:00",
        sun_to="16:00",
        timezone="Europe/London",
        closed_days=["2026-12-26", ""],
        email="weekend@example.org",
    )
    assert response.status_code == 302, response.text
    text = _bot_yml(teams_app)
    assert '    weekend:\n      hours: {sat-sun: "10:00-16:00"}\n' in text
    assert "      timezone: Europe/London\n      closed_days: [2026-12-26]\n" in text
    for comment in (
        "# The test club's settings.",
        "    # Night owls.",
        '{mon-fri: "09:00-17:00"}  # office hours',
        "\n\n  # What members see when nobody is there.\n  offline_message:",
        "\n\n# The chat window.\nwidget:",
    ):
        assert comment in text
    latest = teams_app.extensions["botbuilder"].editor.history.latest("bot.yml")
    assert (latest.author, latest.note) == ("admin@example.org", "added team 'weekend'")
    listing = admin.get("/admin/teams").text
    assert re.search(r'data-team="weekend"[\s\S]*?sat-sun 10:00-16:00', listing)


def test_editing_a_team_changes_only_what_the_form_changed(teams_app: Any, admin: Any) -> None:
    before = _bot_yml(teams_app)
    form = admin.get("/admin/teams/leden/edit").text
    assert 'value="09:00"' in form and 'value="17:00"' in form
    days = {f"{d}_from": "09:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    days |= {f"{d}_to": "17:00" for d in ("mon", "tue", "wed", "thu")}
    response = _team(admin, "/admin/teams/leden/edit", fri_to="00:00", **days)
    assert response.status_code == 302, response.text
    after = _bot_yml(teams_app)
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(changed) == 1
    assert changed[0].startswith('      hours: {mon-thu: "09:00-17:00", fri: "09:00-24:00"}')
    assert changed[0].endswith(" # office hours")  # the line's own comment stays


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"sat_from": "16:00", "sat_to": "10:00"}, "hours-sat", "is not from-to"),
        ({"sat_from": "10:00"}, "hours-sat", "is not from-to"),
        ({"timezone": "Europe/Atlantis"}, "timezone", "unknown time zone"),
        ({"closed_days": ["2026-02-30"]}, "closed_days", "must be a date"),
        ({"webhook": "ftp://hooks.example.org/x"}, "webhook", "http(s) URL"),
        ({"email": "weekend-at-example"}, "email", "is not an e-mail address"),
        ({"name": "week end"}, "name", "a team name has"),
        ({"name": "leden"}, "name", "already a team 'leden'"),
    ],
)
def test_bad_team_input_is_shown_next_to_its_field_and_nothing_is_written(
    teams_app: Any, admin: Any, fields: dict[str, Any], field: str, message: str
) -> None:
    before = _bot_yml(teams_app)
    response = _team(admin, "/admin/teams/new", **{"name": "weekend", **fields})
    assert response.status_code == 422
    assert message in _problem(response.text, field)
    assert _bot_yml(teams_app) == before


def test_a_loader_error_is_tied_to_the_field_it_comes_from(teams_app: Any, admin: Any) -> None:
    """What only the loader knows (a webhook URL it refuses) still lands next to its field."""
    before = _bot_yml(teams_app)
    response = _team(admin, "/admin/teams/leden/edit", webhook="HTTP:hooks.example.org")
    assert response.status_code == 422
    assert "webhook" in _problem(response.text, "webhook")
    assert _bot_yml(teams_app) == before


def test_the_webhook_is_shown_masked_and_kept_unless_replaced(teams_app: Any, admin: Any) -> None:
    assert _team(admin, "/admin/teams/leden/edit", webhook=SECRET_HOOK).status_code == 302
    assert f"webhook: {SECRET_HOOK}" in _bot_yml(teams_app)
    for page in (admin.get("/admin/teams/leden/edit").text, admin.get("/admin/teams").text):
        assert "s3cr3t" not in page
        assert "https://hooks.example.org/…" in page
    # Another change, webhook field left empty: the URL stays.
    assert _team(admin, "/admin/teams/leden/edit", email="leden@example.org").status_code == 302
    assert f"webhook: {SECRET_HOOK}" in _bot_yml(teams_app)
    # An error page does not send it back either.
    failed = _team(admin, "/admin/teams/leden/edit", timezone="Nowhere/Here")
    assert failed.status_code == 422 and "s3cr3t" not in failed.text
    assert _team(admin, "/admin/teams/leden/edit", remove_webhook="on").status_code == 302
    assert "webhook:" not in _bot_yml(teams_app)


def test_the_default_team_cannot_be_deleted_and_a_team_in_use_neither(
    teams_app: Any, admin: Any
) -> None:
    before = _bot_yml(teams_app)
    refused = admin.post("/admin/teams/leden/delete", data={"csrf_token": admin.csrf})
    assert refused.status_code == 422
    assert "team 'leden' is the default team; choose another" in html.unescape(refused.text)
    admin.post("/admin/teams/default", data={"csrf_token": admin.csrf, "default_team": "nacht"})
    in_use = admin.post("/admin/teams/leden/delete", data={"csrf_token": admin.csrf})
    assert in_use.status_code == 422
    assert "handoff team 'leden' is not in bot.yml's handoff.teams" in html.unescape(in_use.text)
    assert "leden:" in _bot_yml(teams_app) and before != _bot_yml(teams_app)


def test_deleting_a_team_keeps_the_comment_of_the_key_after_it(teams_app: Any, admin: Any) -> None:
    response = admin.post("/admin/teams/nacht/delete", data={"csrf_token": admin.csrf})
    assert response.status_code == 302, response.text
    text = _bot_yml(teams_app)
    assert "nacht" not in text and "Night owls" not in text
    assert "\n\n  # What members see when nobody is there.\n  offline_message:" in text
    latest = teams_app.extensions["botbuilder"].editor.history.latest("bot.yml")
    assert latest.note == "deleted team 'nacht'"


def test_an_unknown_default_team_or_team_page_is_a_4xx(admin: Any) -> None:
    bad = admin.post("/admin/teams/default", data={"csrf_token": admin.csrf, "default_team": "x"})
    assert bad.status_code == 422 and "'x' is not a team" in html.unescape(bad.text)
    assert admin.get("/admin/teams/nobody/edit").status_code == 404


def test_team_changes_are_for_admins_only(teams_app: Any) -> None:
    client = teams_app.test_client()
    client.csrf = login(client, "manager@example.org")
    before = _bot_yml(teams_app)
    assert _team(client, "/admin/teams/new", name="weekend").status_code == 403
    assert (
        client.post("/admin/teams/nacht/delete", data={"csrf_token": client.csrf}).status_code
        == 403
    )
    assert _bot_yml(teams_app) == before


def _handoff_reply(client: Any) -> str:
    conversation = client.post("/api/v1/conversations", json={"language": "nl"}).json
    turn = client.post(
        f"/api/v1/conversations/{conversation['conversation_id']}/messages",
        json={"text": "ik wil een medewerker spreken"},
    ).json
    assert turn["decision"] == "handoff", turn
    return " ".join(m["text"] for m in turn["messages"])


def test_the_bots_handoffs_use_the_hours_an_admin_sets(teams_app: Any, admin: Any) -> None:
    always = {f"{d}_from": "00:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    always |= {f"{d}_to": "00:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert _team(admin, "/admin/teams/new", name="altijd", **always).status_code == 302
    made_default = admin.post(
        "/admin/teams/default", data={"csrf_token": admin.csrf, "default_team": "altijd"}
    )
    assert made_default.status_code == 302
    member = teams_app.test_client()
    # Open all week (and no console in use): the member waits in the queue.
    opened = _handoff_reply(member)
    assert system_text("handoff", "nl") in opened and "We zijn er weer" not in opened

    # Closed today (and the days around it, so midnight cannot change the outcome).
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    closed = [str(today + timedelta(days=d)) for d in (-1, 0, 1)]
    assert _team(admin, "/admin/teams/altijd/edit", closed_days=closed, **always).status_code == 302
    assert "We zijn er weer op maandag om 9:00" in _handoff_reply(member)


def test_a_team_saved_by_someone_else_meanwhile_is_a_409_not_overwritten(
    teams_app: Any, admin: Any
) -> None:
    opened = admin.get("/admin/teams/leden/edit").text
    revision = re.search(r'name="revision" value="([^"]+)"', opened)
    assert revision
    assert _team(admin, "/admin/teams/leden/edit", email="ander@example.org").status_code == 302
    saved = _bot_yml(teams_app)
    late = _team(
        admin,
        "/admin/teams/leden/edit",
        revision=revision.group(1),
        sat_from="10:00",
        sat_to="12:00",
    )
    assert late.status_code == 409
    assert "someone else saved team 'leden'" in html.unescape(late.text)
    assert 'value="ander@example.org"' in late.text  # their version is in the form now
    assert _bot_yml(teams_app) == saved
