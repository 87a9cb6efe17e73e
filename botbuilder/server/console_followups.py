"""The console's follow-up page: the member's question, and the agent's reply sent by e-mail.

Views on the console's blueprint (`console.py` registers them), for agents,
managers and admins; every POST is CSRF-checked by `login_required`. With
`BOTBUILDER_SMTP_URL` set the reply is written here and sent from the team's
address (`integrations/followup_replies.py`); without it the page offers the
member's address as a `mailto:` link and a Done button, as before. When the
mail server refuses, the page says why, keeps the draft, and the follow-up
stays open.
"""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.conversations.followups import FollowUpRecord
from botbuilder.db.ids import row_id
from botbuilder.errors import Conflict, MailError
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_user, error_response, services, wants_json
from botbuilder.server.i18n import localized

__all__ = ["follow_up", "reply_to_follow_up"]

MAIL_FAILED = 502  # the mail server, a gateway of sorts, did not take it


def _page(record: FollowUpRecord, draft: str = "", error: str | None = None) -> str:
    replies = services().follow_up_replies
    return render_template(
        "console/followup.html",
        follow_up=record,
        mail=replies is not None,
        sender=replies.sender(record.team) if replies is not None else None,
        draft=draft,
        error=error,
    )


@login_required(("agent", "manager", "admin"))
def follow_up(follow_up_id: int) -> ResponseReturnValue:
    """`GET /console/follow-ups/<id>`: the question, and the reply form when mail is set up."""
    return _page(services().queue.follow_up(row_id(follow_up_id, "a follow-up id")))


@login_required(("agent", "manager", "admin"))
def reply_to_follow_up(follow_up_id: int) -> ResponseReturnValue:
    """`POST /console/follow-ups/<id>/reply`: send the reply, keep it, mark the follow-up done."""
    follow_up_id = row_id(follow_up_id, "a follow-up id")
    replies = services().follow_up_replies
    if replies is None:
        raise Conflict(
            gettext(
                "Mail is not set up on this server (BOTBUILDER_SMTP_URL). Write to the member "
                "from your own mail program and mark the follow-up done."
            )
        )
    text = request.form.get("text", "") if not request.is_json else _json_text()
    user = current_user()
    assert user is not None  # behind login_required
    try:
        record = replies.reply(follow_up_id, user.email, text)
    except MailError as exc:
        if wants_json():
            return error_response(
                gettext("not sent: %(reason)s", reason=localized(exc)), MAIL_FAILED
            )
        record = services().queue.follow_up(follow_up_id)
        return _page(record, draft=text, error=localized(exc)), MAIL_FAILED
    if wants_json():
        return jsonify(ok=True, status=record.status, message_id=record.reply_message_id)
    return redirect(url_for("console.follow_up", follow_up_id=follow_up_id))


def _json_text() -> str:
    body = request.get_json(silent=True)
    value = body.get("text") if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""
