"""The widget and integration API, `/api/v1`: the contract in web/openapi.yaml.

Public (no login), so every input is checked and size-limited here or in
the core, and cross-origin use is allowed only for the origins listed in
bot.yml `widget.allowed_origins`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from botbuilder.content.plain_text import plain_text
from botbuilder.conversations.dialogue import MAX_MESSAGE_CHARS
from botbuilder.conversations.idempotency import (
    MIN_SHARED_KEY_CHARS,
    StoredResponse,
    Takeover,
    check_key,
    fingerprint,
)
from botbuilder.conversations.store import ConversationRecord, MessageRecord, is_conversation_id
from botbuilder.conversations.turns import Outcome
from botbuilder.db.ids import row_id
from botbuilder.errors import BadRequest, Conflict, PayloadTooLarge, RequestError
from botbuilder.matching.understanding import understand
from botbuilder.server.common import error_response, services
from botbuilder.server.limits import count_handoff, limited
from botbuilder.server.metrics import note_decision

__all__ = ["allowed_origin", "blueprint", "message_json"]

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


def message_json(message: MessageRecord) -> dict[str, Any]:
    """A message as the API shows it; internal fields (scores, actions) stay out."""
    data: dict[str, Any] = {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "html": message.html,
        "buttons": [
            {k: v for k, v in b.items() if k in ("id", "label", "url")} for b in message.buttons
        ],
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
    }
    if message.role == "bot" and message.intent:
        data["intent"] = message.intent
    if message.role == "bot" and message.decision:
        data["decision"] = message.decision
    return data


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True, force=True)
    if data is None and request.get_data():
        raise BadRequest("the body must be JSON")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def allowed_origin(origin: str) -> bool:
    if origin == request.host_url.rstrip("/"):
        return True
    allowed = services().runtime.current().bot.settings.widget.allowed_origins
    return "*" in allowed or origin.rstrip("/") in allowed


@blueprint.before_request
def check_origin() -> ResponseReturnValue | None:
    origin = request.headers.get("Origin")
    if origin and not allowed_origin(origin):
        return error_response(
            f"origin {origin} may not use this bot; add it to widget.allowed_origins in bot.yml",
            403,
        )
    if request.method == "OPTIONS":
        return "", 204
    return None


@blueprint.after_request
def cors_headers(response: Any) -> Any:
    origin = request.headers.get("Origin")
    if origin and allowed_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response.headers["Access-Control-Max-Age"] = "600"
        # A page's script may read these only when named: the widget waits on Retry-After.
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, Idempotent-Replayed"
    response.headers.add("Vary", "Origin")
    # Conversations are private: never cached. A view may say otherwise (announcements).
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _turn_json(
    conversation: ConversationRecord,
    decision: str | None,
    messages: list[MessageRecord],
    member: MessageRecord | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "conversation_id": conversation.id,
        "decision": decision,
        "state": conversation.state,
        "language": conversation.language,
        "messages": [message_json(m) for m in messages],
    }
    if member is not None:
        data["member_message"] = message_json(member)
    if conversation.state == "waiting":
        data["queue_position"] = services().storage.queue_position(conversation.id)
    ids = [m.id for m in messages] + ([member.id] if member else [])
    data["cursor"] = max(ids) if ids else None
    return data


# -- idempotency: a retry with the same key gets the first answer -------------------------

_START = "conversations"  # the scope of keys that start a conversation
Turn = Callable[[dict[str, Any]], tuple[dict[str, Any], int]]
Recover = Callable[[Takeover], tuple[dict[str, Any], int] | None]


def _idempotency_key(body: dict[str, Any]) -> str | None:
    """The request's key: the Idempotency-Key header or the body's `client_message_id`."""
    header = request.headers.get("Idempotency-Key")
    field = body.pop("client_message_id", None)
    if header is not None:
        check_key(header, "the Idempotency-Key header")
    if field is not None:
        check_key(field, "'client_message_id'")
    if header is not None and field is not None and header != field:
        raise BadRequest(
            "the Idempotency-Key header and 'client_message_id' differ; send one of them"
        )
    return header if header is not None else field


def _once(
    scope: str | None, body: dict[str, Any], turn: Turn, recover: Recover | None = None
) -> ResponseReturnValue:
    """Run `turn` once per idempotency key in `scope`; a retry gets the stored answer.

    Refusals (4xx) are answers too and are stored; a failure on our side (5xx) or
    a rate limit (429) gives the key up, so the retry runs the request again.
    When the first try died half-way, `recover` answers from what it stored, if anything.
    """
    key = _idempotency_key(body)
    if key is not None and scope == _START and len(key) < MIN_SHARED_KEY_CHARS:
        # Every client starts conversations in one scope: a short key could be guessed
        # and would hand over someone else's conversation id.
        raise BadRequest(
            f"an Idempotency-Key that starts a conversation must be at least "
            f"{MIN_SHARED_KEY_CHARS} characters, e.g. a random UUID"
        )
    if key is None or scope is None:
        data, status = turn(body)
        return jsonify(data), status
    keys = services().idempotency
    try:
        stored = keys.claim(scope, key, fingerprint(body))
    except Conflict as exc:  # the first request with this key is still running
        response = error_response(exc.message, exc.status)
        response.headers["Retry-After"] = "1"
        return response
    if isinstance(stored, StoredResponse):
        return _replay(stored.body, stored.status)
    try:
        recovered = recover(stored) if recover and isinstance(stored, Takeover) else None
        data, status = recovered if recovered is not None else turn(body)
    except RequestError as exc:
        if exc.status >= 500 or exc.status == 429:
            keys.release(scope, key)
        else:
            keys.finish(
                scope, key, exc.status, {"ok": False, "error": exc.message, "status": exc.status}
            )
        raise
    except BaseException:
        keys.release(scope, key)
        raise
    keys.finish(scope, key, status, data)
    return _replay(data, status) if recovered is not None else (jsonify(data), status)


def _replay(body: dict[str, Any], status: int) -> Any:
    """An answer given before, sent again, marked as such."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Idempotent-Replayed"] = "true"
    return response


@blueprint.route("/conversations", methods=["POST", "OPTIONS"])
@limited("conversations")
def start_conversation() -> ResponseReturnValue:
    return _once(_START, _body(), _start)


def _start(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    language = body.get("language")
    if language is not None and not isinstance(language, str):
        raise BadRequest("'language' must be a language code such as \"nl\"")
    turn = services().dialogue.start(language)
    data = _turn_json(turn.conversation, None, turn.messages)
    del data["decision"]
    return data, 201


@blueprint.route("/conversations/<conversation_id>/messages", methods=["POST", "OPTIONS"])
@limited("messages", handoffs=True)
def post_message(conversation_id: str) -> ResponseReturnValue:
    # The scope is the conversation's id (the member's secret, so keys can't clash; privacy's
    # retention finds the keys by it). Only an id as we make them: "conversations" is taken.
    scope = conversation_id if _made_id(conversation_id) else None
    services().runtime.batcher.admit()  # a full queue refuses before anything is stored
    return _once(
        scope,
        _body(),
        lambda body: _message(conversation_id, body),
        lambda takeover: _stored_turn(conversation_id, takeover),
    )


def _stored_turn(conversation_id: str, takeover: Takeover) -> tuple[dict[str, Any], int] | None:
    """The turn a killed first try stored, if it got as far as the member's message.

    The first try ran in this conversation, one at a time per key, from `abandoned_at`
    (by its own clock, the same one that stamped its messages).
    """
    storage = services().storage
    messages = storage.messages(conversation_id)
    member = next(
        (m for m in messages if m.role == "member" and m.created_at >= takeover.abandoned_at),
        None,
    )
    if member is None:
        return None
    later = []
    for message in (m for m in messages if m.id > member.id):
        if message.role == "member":
            break  # the next turn's
        later.append(message)
    conversation = storage.conversation(conversation_id)
    return _turn_json(conversation, member.decision, later, member), 200


def _made_id(conversation_id: str) -> bool:
    return (
        is_conversation_id(conversation_id)
        and len(conversation_id) == 32
        and all(c in "0123456789abcdef" for c in conversation_id)
    )


def _message(conversation_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    has_text, has_button = "text" in body, "button" in body
    if has_text == has_button:
        raise BadRequest('send either {"text": "…"} or {"button": "<id>"}')
    dialogue = services().dialogue
    if has_text:
        turn = dialogue.receive_text(conversation_id, body["text"])
    else:
        turn = dialogue.press_button(conversation_id, body["button"])
    if turn.decision == Outcome.HANDOFF and turn.conversation.state == "waiting":
        count_handoff(conversation_id)
    note_decision(turn.decision)  # for /metrics
    return _turn_json(turn.conversation, turn.decision, turn.messages, turn.member_message), 200


@blueprint.get("/conversations/<conversation_id>/messages")
def get_messages(conversation_id: str) -> ResponseReturnValue:
    raw = request.args.get("after")
    after = None
    if raw not in (None, ""):
        after = row_id(raw, "'after' (a message id from an earlier response)", minimum=0)
    conversation, messages = services().dialogue.updates(conversation_id, after)
    data = _turn_json(conversation, None, messages)
    del data["decision"]
    if data["cursor"] is None:
        data["cursor"] = after
    return jsonify(data)


@blueprint.route("/conversations/<conversation_id>/close", methods=["POST", "OPTIONS"])
def close_conversation(conversation_id: str) -> ResponseReturnValue:
    """The member stops waiting ({"back_to_bot": true}) or ends the chat (no body)."""
    body = _body()
    back_to_bot = body.pop("back_to_bot", False)
    if not isinstance(back_to_bot, bool):
        raise BadRequest("'back_to_bot' must be true or false")
    if body:
        raise BadRequest(f"unknown field '{sorted(body)[0]}'; the only field is 'back_to_bot'")
    left = services().dialogue.leave(conversation_id, back_to_bot)
    data = _turn_json(left.conversation, None, left.messages)
    del data["decision"]
    return jsonify(data)


@blueprint.get("/announcements")
def get_announcements() -> ResponseReturnValue:
    """The notices running now, in the member's language; the open widget asks every second."""
    bot = services().runtime.current().bot
    language = request.args.get("language") or bot.settings.language
    if language not in bot.languages:
        raise BadRequest(
            f"language '{language[:20]}' is not one of this bot's: {', '.join(bot.languages)}"
        )
    running = services().announcements.running()
    response = jsonify(announcements=[a.as_json(language, bot.settings.language) for a in running])
    response.add_etag()
    response.headers["Cache-Control"] = "no-cache"  # ask every time; a 304 costs nothing
    return response.make_conditional(request)


@blueprint.route("/conversations/<conversation_id>/feedback", methods=["POST", "OPTIONS"])
@limited("feedback")
def post_feedback(conversation_id: str) -> ResponseReturnValue:
    body = _body()
    services().dialogue.feedback(conversation_id, body.get("message_id"), body.get("helpful"))
    return jsonify(ok=True)


@blueprint.route("/match", methods=["POST", "OPTIONS"])
@limited("match")
def match() -> ResponseReturnValue:
    body = _body()
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("'text' must be a non-empty string")
    if len(text) > MAX_MESSAGE_CHARS:
        raise PayloadTooLarge(f"'text' may be at most {MAX_MESSAGE_CHARS} characters")
    plain_text(text, "'text'")
    services().runtime.batcher.admit()  # 503 with Retry-After while the queue is full
    loaded = services().runtime.current()
    if "language" in body:
        # One matcher serves all of a bot's languages and an intent keeps its id in
        # each, so a language could not change the verdict; refusing it beats ignoring it.
        raise BadRequest(
            "'language' is not a field of /match: the match covers all of this bot's "
            f"languages ({', '.join(loaded.bot.languages)}) at once; leave it out"
        )
    result = understand(loaded.matcher, text.strip())
    note_decision(result.decision)
    return jsonify(
        decision=result.decision,
        intent=result.intent if result.decision == "answer" else None,
        confidence=result.confidence,
        candidates=[{"intent": c.intent, "score": c.score} for c in result.candidates],
        options=list(result.options),
    )
