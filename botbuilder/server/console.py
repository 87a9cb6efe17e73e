"""The agent console, `/console`: the live queue, a conversation, and the agent's moves.

For signed-in users with role agent, manager or admin. Every state change is a
POST carrying the session's CSRF token (a form field, or the `X-CSRF-Token`
header from the console's script). The moves themselves live in
`botbuilder.conversations.queue`; a move that lost a race answers 409 Conflict.
The queue and the webhook notifier are the app's own (built in `create_app`);
this blueprint only shows them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.content.emails import mailto
from botbuilder.content.rendering import render_markdown
from botbuilder.conversations.presence import PRESENCE_TIMEOUT
from botbuilder.conversations.store import MessageRecord
from botbuilder.db.ids import row_id
from botbuilder.errors import BadRequest, RequestError
from botbuilder.server import console_delete, console_followups
from botbuilder.server.auth import STAFF_BLUEPRINTS, login_required
from botbuilder.server.common import (
    current_user,
    error_response,
    services,
    team_names,
    wants_json,
)
from botbuilder.server.i18n import localized

__all__ = ["blueprint"]

log = logging.getLogger(__name__)
LEFT_SHOWN = timedelta(hours=24)  # how far back the queue page lists chats that left the queue
blueprint = Blueprint("console", __name__, url_prefix="/console")
CONSOLE_ROLES = ("agent", "manager", "admin")
staff = login_required(CONSOLE_ROLES)
STAFF_BLUEPRINTS.add("console")
_DELETE = "/conversations/<conversation_id>/delete"  # admins: a member's data, on request
blueprint.add_url_rule(_DELETE, view_func=console_delete.confirm_delete)
blueprint.add_url_rule(_DELETE, view_func=console_delete.delete_conversation, methods=["POST"])
blueprint.add_url_rule("/follow-ups/<int:follow_up_id>", view_func=console_followups.follow_up)
blueprint.add_url_rule(
    "/follow-ups/<int:follow_up_id>/reply",
    view_func=console_followups.reply_to_follow_up,
    methods=["POST"],
)


def me() -> str:
    user = current_user()
    assert user is not None  # behind login_required
    return user.email


@blueprint.errorhandler(RequestError)
def _refused(exc: RequestError) -> ResponseReturnValue:
    if wants_json():
        return error_response(localized(exc), exc.status)
    return render_template("console/error.html", message=localized(exc)), exc.status


@blueprint.context_processor
def _links() -> dict[str, Any]:
    # A member's address as a link, never with parameters; replies by e-mail when SMTP is set.
    return {"mailto": mailto, "mail_replies": services().follow_up_replies is not None}


# -- views helpers -------------------------------------------------------------------------


def _minutes(seconds: int) -> str:
    if seconds < 60:
        return gettext("%(num)d s", num=seconds)
    if seconds < 3600:
        return gettext("%(num)d min", num=seconds // 60)
    return gettext(
        "%(hours)d h %(minutes)d min", hours=seconds // 3600, minutes=seconds % 3600 // 60
    )


def _queue_json() -> dict[str, Any]:
    agent = me()

    def entry(e: Any) -> dict[str, Any]:
        return {
            "conversation_id": e.conversation.id,
            "team": e.handoff.team,
            "question": e.handoff.question,
            "language": e.conversation.language,
            "waiting_since": e.handoff.created_at.isoformat(),
            "waiting_seconds": e.waiting_seconds,
            "waiting": _minutes(e.waiting_seconds),
            "url": url_for("console.conversation", conversation_id=e.conversation.id),
        }

    q = services().queue
    services().dialogue.lifecycle.sweep()  # members gone quiet leave the queue (lazily)
    return {
        "waiting": [entry(e) for e in q.waiting()],
        "mine": [entry(e) for e in q.assigned_to(agent)],
        "follow_ups": len(q.follow_ups()),
        "presence": q.presence().get(agent, ""),
        "failed_webhooks": len(services().notifier.deliveries("failed")),
    }


def _message_json(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "role": m.role,
        "text": m.text,
        "html": m.html,
        "created_at": m.created_at.isoformat(),
    }


def _done(conversation_id: str | None = None, to_queue: bool = False) -> ResponseReturnValue:
    """After a move: JSON for the script, a redirect for a plain form."""
    if wants_json():
        state = services().storage.conversation(conversation_id).state if conversation_id else None
        return jsonify(ok=True, state=state)
    if conversation_id and not to_queue:
        return redirect(url_for("console.conversation", conversation_id=conversation_id))
    return redirect(url_for("console.home"))


# -- pages ---------------------------------------------------------------------------------


@blueprint.get("")
@staff
def home() -> ResponseReturnValue:
    data = _queue_json()
    teams = team_names(services().runtime.current().bot)
    by_team = {team: [e for e in data["waiting"] if e["team"] == team] for team in teams}
    for e in data["waiting"]:  # a team removed from bot.yml still shows its conversations
        by_team.setdefault(e["team"], [])
        if e not in by_team[e["team"]]:
            by_team[e["team"]].append(e)
    return render_template(
        "console/queue.html",
        data=data,
        by_team=by_team,
        follow_ups=services().queue.follow_ups(),
        deliveries=services().notifier.deliveries(),
        presence=services().queue.presence(),
        presence_timeout=int(PRESENCE_TIMEOUT.total_seconds()),
        # Members who stopped waiting or went quiet: out of the queue, still findable.
        left=services().dialogue.lifecycle.left_since(services().dialogue.clock() - LEFT_SHOWN),
    )


@blueprint.get("/api/queue")
@staff
def queue_json() -> ResponseReturnValue:
    return jsonify(_queue_json())


@blueprint.get("/conversations/<conversation_id>")
@staff
def conversation(conversation_id: str) -> ResponseReturnValue:
    storage = services().storage
    conv = storage.conversation(conversation_id)
    bot = services().runtime.current().bot
    q = services().queue
    trigger = q.trigger(conversation_id)
    handoff = q.current_handoff(conversation_id)
    # Asked for a person in words ("ik wil iemand spreken"): the bot's scores mean nothing.
    asked = handoff is not None and handoff.reason == "member_request"
    guesses = []
    for candidate in (trigger.candidates if trigger and not asked else ())[:5]:
        intent = bot.intent(str(candidate.get("intent")), conv.language)
        guesses.append(
            {
                "intent": candidate.get("intent"),
                "score": float(candidate.get("score") or 0.0),
                "title": intent.questions[0] if intent and intent.questions else "",
            }
        )
    return render_template(
        "console/conversation.html",
        conversation=conv,
        messages=storage.messages(conversation_id),
        notes=q.notes(conversation_id),
        trigger=trigger,
        guesses=guesses,
        handoff=handoff,
        owner=q.owner(conversation_id),
        me=me(),
        teams=team_names(bot),
        follow_ups=[f for f in q.follow_ups() if f.conversation_id == conversation_id],
    )


@blueprint.get("/api/conversations/<conversation_id>")
@staff
def conversation_json(conversation_id: str) -> ResponseReturnValue:
    raw = request.args.get("after", "")
    after = row_id(raw, "'after' (a message id)", minimum=0) if raw else None
    storage = services().storage
    conv = storage.conversation(conversation_id)
    messages = storage.messages(conversation_id, after)
    return jsonify(
        state=conv.state,
        owner=services().queue.owner(conversation_id),
        messages=[_message_json(m) for m in messages],
    )


@blueprint.get("/api/answers")
@staff
def answers() -> ResponseReturnValue:
    """Canned replies: the bot's own answers that match the search words."""
    words = [w for w in request.args.get("q", "").lower().split() if w][:8]
    language = request.args.get("language") or None
    bot = services().runtime.current().bot
    found = []
    for intent in bot.intents.values():
        if language and intent.language != language:
            continue
        haystack = " ".join((intent.id, intent.answer, *intent.questions)).lower()
        score = sum(haystack.count(w) for w in words) if words else 1
        if score:
            title = intent.questions[0] if intent.questions else intent.id
            found.append((score, intent.id, intent.language, title, intent.answer))
    found.sort(key=lambda f: (-f[0], f[1]))
    return jsonify(
        answers=[
            # The answer as typed (Markdown, which the member sees formatted) and as shown.
            {"intent": i, "language": lang, "title": t, "answer": a, "html": render_markdown(a)}
            for _, i, lang, t, a in found[:8]
        ]
    )


# -- moves ---------------------------------------------------------------------------------


@blueprint.post("/conversations/<conversation_id>/claim")
@staff
def claim(conversation_id: str) -> ResponseReturnValue:
    services().queue.claim(conversation_id, me())
    return _done(conversation_id)


@blueprint.post("/conversations/<conversation_id>/reply")
@staff
def reply(conversation_id: str) -> ResponseReturnValue:
    services().queue.reply(conversation_id, me(), _field("text"))
    return _done(conversation_id)


@blueprint.post("/conversations/<conversation_id>/note")
@staff
def note(conversation_id: str) -> ResponseReturnValue:
    services().queue.note(conversation_id, me(), _field("text"))
    return _done(conversation_id)


@blueprint.post("/conversations/<conversation_id>/transfer")
@staff
def transfer(conversation_id: str) -> ResponseReturnValue:
    services().queue.transfer(conversation_id, me(), _field("team"))
    return _done(conversation_id, to_queue=True)


@blueprint.post("/conversations/<conversation_id>/close")
@staff
def close(conversation_id: str) -> ResponseReturnValue:
    services().queue.close(conversation_id, me())
    return _done(conversation_id, to_queue=True)


@blueprint.post("/conversations/<conversation_id>/hand-back")
@staff
def hand_back(conversation_id: str) -> ResponseReturnValue:
    services().queue.hand_back(conversation_id, me())
    return _done(conversation_id, to_queue=True)


@blueprint.post("/presence")
@staff
def presence() -> ResponseReturnValue:
    status = _field("status")
    services().queue.set_presence(me(), status)
    if wants_json():
        return jsonify(ok=True, presence=status)
    return redirect(url_for("console.home"))


@blueprint.post("/follow-ups/<int:follow_up_id>/done")
@staff
def follow_up_done(follow_up_id: int) -> ResponseReturnValue:
    services().queue.finish_follow_up(row_id(follow_up_id, "a follow-up id"), me())
    return _done()


def _field(name: str) -> str:
    if request.is_json:
        body = request.get_json(silent=True) or {}
        value = body.get(name) if isinstance(body, dict) else None
    else:
        value = request.form.get(name)
    if not isinstance(value, str):
        raise BadRequest(gettext("'%(name)s' is missing", name=name))
    return value
