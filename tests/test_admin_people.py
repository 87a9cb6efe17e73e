"""Users in the browser for admins (/admin/users), through Flask's test client on a real
SQLite file: who may open the pages, inviting with a one-time link to choose a password
(shown once without mail; the mailed link is in test_people_mail.py), roles, resets and
deactivation that end sessions, the last active admin, and 4xx pages for bad input.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from botbuilder.accounts import Accounts, LoginFailed
from botbuilder.conversations.store import Storage
from botbuilder.errors import Conflict
from botbuilder.people import People
from tests.test_editor import PASSWORD, editor_app, login  # noqa: F401 (a fixture)


def _client(app: Any, email: str, password: str = PASSWORD) -> Any:
    client = app.test_client()
    client.csrf = login(client, email, password)
    return client


@pytest.fixture
def admin(editor_app: Any) -> Any:  # noqa: F811
    return _client(editor_app, "admin@example.org")


def _post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf_token": client.csrf, **data})


def _user_id(app: Any, email: str) -> int:
    return next(u.id for u in app.extensions["botbuilder"].accounts.users() if u.email == email)


NEW_PASSWORD = "drie fietsen op het dak"


def _row(listing: str, email: str) -> str:
    found = re.search(rf'<tr data-user="{re.escape(email)}">[\s\S]*?</tr>', listing)
    assert found, f"no row for {email}"
    return found.group(0)


def one_time_link(page: str) -> str:
    found = re.search(r'<code class="link">([^<]+)</code>', page)
    assert found, "no one-time link on the page"
    return html.unescape(found.group(1))


def choose_password(app: Any, link: str, password: str = NEW_PASSWORD) -> Any:
    """Follow the link in a fresh browser and post the password twice; the last response."""
    client = app.test_client()
    opened = client.get(urlsplit(link).path)
    if opened.status_code != 303:
        return opened
    form = client.get(opened.headers["Location"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text
    return client.post(
        "/password",
        data={"password": password, "confirm": password, "csrf_token": token.group(1)},
    )


def _signs_in(app: Any, email: str, password: str) -> bool:
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
    )
    return response.status_code == 302


def _still_signed_in(client: Any) -> bool:
    return client.get("/editor/").status_code == 200


# -- who may ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(editor_app: Any) -> None:  # noqa: F811
    for path in ("/admin/users", "/admin/teams", "/admin/teams/new"):
        response = editor_app.test_client().get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("email", ["manager@example.org", "agent@example.org"])
def test_managers_and_agents_get_403_on_every_admin_page(editor_app: Any, email: str) -> None:  # noqa: F811
    client = _client(editor_app, email)
    for path in ("/admin/users", "/admin/teams", "/admin/teams/leden/edit"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "for admin" in response.text
    refused = _post(client, "/admin/users", email="sneaky@example.org", role="admin")
    assert refused.status_code == 403
    assert "sneaky@example.org" not in [
        u.email for u in editor_app.extensions["botbuilder"].accounts.users()
    ]


def test_only_admins_see_the_people_and_teams_menu_entry(editor_app: Any, admin: Any) -> None:  # noqa: F811
    assert "People &amp; teams" in admin.get("/editor/").text
    manager = _client(editor_app, "manager@example.org")
    assert "People &amp; teams" not in manager.get("/editor/").text


def test_a_change_without_the_csrf_token_is_refused(editor_app: Any, admin: Any) -> None:  # noqa: F811
    target = _user_id(editor_app, "agent@example.org")
    response = admin.post(f"/admin/users/{target}/deactivate", data={})
    assert response.status_code == 403
    assert _signs_in(editor_app, "agent@example.org", PASSWORD)


# -- inviting -----------------------------------------------------------------------------


def test_an_invited_user_gets_a_one_time_link_shown_once_to_choose_their_password(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    page = _post(admin, "/admin/users", email=" Nieuw@Example.org ", role="agent")
    assert page.status_code == 201
    link = one_time_link(page.text)
    assert "mail is not set up" in page.text
    assert link.startswith("http://localhost/password/")
    assert "nieuw@example.org" in page.text
    listing = admin.get("/admin/users").text
    assert link not in listing
    assert re.search(
        r'data-user="nieuw@example.org"[\s\S]*?<option value="agent" selected', listing
    )
    assert "no password chosen yet" in _row(listing, "nieuw@example.org")
    assert "no password chosen yet" not in _row(listing, "manager@example.org")
    done = choose_password(editor_app, link)
    assert done.status_code == 200 and 'id="password-set"' in done.text
    assert _signs_in(editor_app, "nieuw@example.org", NEW_PASSWORD)
    listing = admin.get("/admin/users").text
    assert "no password chosen yet" not in _row(listing, "nieuw@example.org")
    again = choose_password(editor_app, link, "nog een ander wachtwoord")
    assert again.status_code == 404 and "not valid" in again.text
    assert _signs_in(editor_app, "nieuw@example.org", NEW_PASSWORD)


def test_a_weak_or_mistyped_password_does_not_use_the_link_up(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    link = one_time_link(_post(admin, "/admin/users", email="zwak@example.org", role="agent").text)
    weak = choose_password(editor_app, link, "welkom2024")
    assert weak.status_code == 400 and "too" in weak.text
    client = editor_app.test_client()
    client.get(urlsplit(link).path)
    form = client.get("/password").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    mistyped = client.post(
        "/password",
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD + "!",
            "csrf_token": token.group(1),
        },
    )
    assert mistyped.status_code == 400 and "not the same" in mistyped.text
    no_csrf = client.post("/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert no_csrf.status_code in (400, 403)
    assert choose_password(editor_app, link).status_code == 200
    assert _signs_in(editor_app, "zwak@example.org", NEW_PASSWORD)


def test_a_made_up_or_missing_link_is_a_404_page_not_a_500(editor_app: Any) -> None:  # noqa: F811
    client = editor_app.test_client()
    assert client.get("/password/made-up-token").status_code == 404
    assert client.get("/password/" + "x" * 300).status_code == 404
    assert client.get("/password").status_code == 404


def test_an_invitation_with_a_chosen_password_does_not_show_it(editor_app: Any, admin: Any) -> None:  # noqa: F811
    page = _post(
        admin, "/admin/users", email="eigen@example.org", role="manager", password=PASSWORD
    )
    assert page.status_code == 201
    assert PASSWORD not in page.text
    assert _signs_in(editor_app, "eigen@example.org", PASSWORD)


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"email": "not-an-address", "role": "agent"}, 400, "is not an e-mail address"),
        ({"email": "x@example.org", "role": "superuser"}, 400, "unknown role"),
        ({"email": "x@example.org", "role": "agent", "password": "welkom2024"}, 400, "too"),
        ({"email": "manager@example.org", "role": "agent"}, 409, "already a user"),
    ],
)
def test_bad_invitations_get_a_4xx_page_with_the_reason(
    editor_app: Any,  # noqa: F811
    admin: Any,
    form: dict[str, str],
    status: int,
    message: str,
) -> None:
    before = len(editor_app.extensions["botbuilder"].accounts.users())
    page = _post(admin, "/admin/users", **form)
    assert page.status_code == status
    assert message in page.text
    assert 'id="admin-error"' in page.text
    assert len(editor_app.extensions["botbuilder"].accounts.users()) == before


# -- changing accounts --------------------------------------------------------------------


def test_a_new_role_takes_effect_and_ends_the_users_sessions(editor_app: Any, admin: Any) -> None:  # noqa: F811
    manager = _client(editor_app, "manager@example.org")
    target = _user_id(editor_app, "manager@example.org")
    response = _post(admin, f"/admin/users/{target}/role", role="agent")
    assert response.status_code == 302
    assert not _still_signed_in(manager)
    assert editor_app.extensions["botbuilder"].accounts.user(target).role == "agent"


def test_a_password_reset_ends_the_old_password_and_sessions_and_shows_a_link_once(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    manager = _client(editor_app, "manager@example.org")
    target = _user_id(editor_app, "manager@example.org")
    page = _post(admin, f"/admin/users/{target}/password")
    assert page.status_code == 200
    link = one_time_link(page.text)
    assert not _still_signed_in(manager)
    assert not _signs_in(editor_app, "manager@example.org", PASSWORD)
    assert choose_password(editor_app, link).status_code == 200
    assert _signs_in(editor_app, "manager@example.org", NEW_PASSWORD)


def test_a_newer_link_or_a_deactivation_ends_an_open_link(editor_app: Any, admin: Any) -> None:  # noqa: F811
    target = _user_id(editor_app, "manager@example.org")
    first = one_time_link(_post(admin, f"/admin/users/{target}/password").text)
    second = one_time_link(_post(admin, f"/admin/users/{target}/password").text)
    assert choose_password(editor_app, first).status_code == 404
    _post(admin, f"/admin/users/{target}/deactivate")
    assert choose_password(editor_app, second).status_code == 404
    _post(admin, f"/admin/users/{target}/reactivate")
    assert not _signs_in(editor_app, "manager@example.org", NEW_PASSWORD)


def test_an_admin_resetting_their_own_password_stays_signed_in(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    page = _post(admin, f"/admin/users/{_user_id(editor_app, 'admin@example.org')}/password")
    assert admin.get("/admin/users").status_code == 200
    assert choose_password(editor_app, one_time_link(page.text)).status_code == 200
    assert _signs_in(editor_app, "admin@example.org", NEW_PASSWORD)


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in_until_reactivated(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    agent = _client(editor_app, "agent@example.org")
    target = _user_id(editor_app, "agent@example.org")
    assert _post(admin, f"/admin/users/{target}/deactivate").status_code == 302
    assert agent.get("/console").status_code == 302  # back to the login page
    assert not _signs_in(editor_app, "agent@example.org", PASSWORD)
    listing = admin.get("/admin/users").text
    assert re.search(r'data-user="agent@example.org"[\s\S]*?deactivated', listing)
    refused = _post(admin, f"/admin/users/{target}/password")
    assert refused.status_code == 409
    assert "reactivate" in refused.text

    assert _post(admin, f"/admin/users/{target}/reactivate").status_code == 302
    assert _signs_in(editor_app, "agent@example.org", PASSWORD)


def test_the_last_active_admin_cannot_demote_or_deactivate_themself(
    editor_app: Any,  # noqa: F811
    admin: Any,
) -> None:
    me = _user_id(editor_app, "admin@example.org")
    demoted = _post(admin, f"/admin/users/{me}/role", role="manager")
    assert demoted.status_code == 409
    assert "last active admin" in demoted.text
    deactivated = _post(admin, f"/admin/users/{me}/deactivate")
    assert deactivated.status_code == 409
    assert editor_app.extensions["botbuilder"].accounts.user(me).role == "admin"
    assert _still_signed_in(admin)

    # A deactivated second admin does not count; an active one does.
    other = _user_id(editor_app, "manager@example.org")
    _post(admin, f"/admin/users/{other}/role", role="admin")
    _post(admin, f"/admin/users/{other}/deactivate")
    assert _post(admin, f"/admin/users/{me}/role", role="manager").status_code == 409
    _post(admin, f"/admin/users/{other}/reactivate")
    stepped_down = _post(admin, f"/admin/users/{me}/role", role="manager")
    assert stepped_down.status_code == 302
    assert editor_app.extensions["botbuilder"].accounts.user(me).role == "manager"
    assert admin.get("/admin/users").status_code == 403  # still signed in, no longer admin


def test_unknown_or_impossible_user_ids_are_4xx_not_500(admin: Any) -> None:
    assert _post(admin, "/admin/users/999/deactivate").status_code == 404
    assert _post(admin, f"/admin/users/{2**40}/role", role="agent").status_code == 400


def test_the_log_names_user_ids_but_no_addresses_or_passwords(
    editor_app: Any,  # noqa: F811
    admin: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        page = _post(admin, "/admin/users", email="geheim@example.org", role="agent")
        invited = one_time_link(page.text)
        target = _user_id(editor_app, "geheim@example.org")
        reset = one_time_link(_post(admin, f"/admin/users/{target}/password").text)
        choose_password(editor_app, reset)
        _post(admin, f"/admin/users/{target}/deactivate")
    text = caplog.text
    assert f"invited user {target}" in text
    assert f"reset the password of user {target}" in text
    assert f"deactivated user {target}" in text
    assert f"user {target} chose a password" in text
    for secret in (invited, reset, urlsplit(reset).path.rpartition("/")[2], NEW_PASSWORD):
        assert secret not in text
    assert "geheim@example.org" not in text


# -- the core, on every database ----------------------------------------------------------


def test_people_keep_one_active_admin_and_lock_out_deactivated_accounts(database_url: str) -> None:
    storage = Storage(database_url)
    try:
        accounts = Accounts(storage)
        people = People(accounts)
        first = accounts.add("eerste@example.org", PASSWORD, "admin")
        second, token = people.invite("tweede@example.org", "admin")
        assert token is not None
        password = NEW_PASSWORD
        assert people.choose_password(token, password).id == second.id
        assert accounts.authenticate("tweede@example.org", password).id == second.id
        people.deactivate(second.id)
        with pytest.raises(LoginFailed):
            accounts.authenticate("tweede@example.org", password)
        with pytest.raises(Conflict, match="last active admin"):
            people.set_role(first.id, "agent")
        people.reactivate(second.id)
        people.set_role(first.id, "agent")
        with pytest.raises(Conflict, match="last active admin"):
            people.deactivate(second.id)
        listed = {p.email: (p.role, p.active) for p in people.list()}
        assert listed == {
            "eerste@example.org": ("agent", True),
            "tweede@example.org": ("admin", True),
        }
        assert people.person(second.id).last_sign_in is not None
    finally:
        storage.close()
