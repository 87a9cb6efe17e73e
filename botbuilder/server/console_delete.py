"""Deleting one member's data from the console: an admin's answer to a request to be forgotten.

The same deletion as `botbuilder privacy delete --conversation ID`
(`privacy/requests.py`): every row of the conversation in every table, and
every row that names it. When the member left an e-mail address for a
follow-up, the admin may tick to delete by that address too (as
`--email ADDRESS`: every conversation that names it). Admins only; a
confirmation page first, and the POST needs the CSRF token and the word
"delete" typed, so a stray click deletes nothing. The log gets who deleted
and the counts, never the address or the text. `console.py` registers these
views on the console's blueprint.
"""

from __future__ import annotations

import logging

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from botbuilder.errors import BadRequest
from botbuilder.privacy.requests import MemberData, delete_member, export_member, find_member
from botbuilder.server.auth import login_required
from botbuilder.server.common import current_user, services

__all__ = ["confirm_delete", "delete_conversation"]

log = logging.getLogger(__name__)
admins = login_required(("admin",))
CONFIRM_WORD = "delete"


def _follow_up_addresses(member: MemberData) -> list[str]:
    """The addresses the member left for a follow-up in this conversation."""
    rows = export_member(services().storage, member)["tables"].get("follow_ups", [])
    return sorted({str(row["email"]).lower() for row in rows if row.get("email")})


@admins
def confirm_delete(conversation_id: str) -> ResponseReturnValue:
    """`GET …/delete`: what will go, and the form that deletes it."""
    member = find_member(services().storage, conversation_id=conversation_id)
    return render_template(
        "console/delete.html",
        conversation_id=conversation_id,
        addresses=_follow_up_addresses(member),
        messages=len(services().storage.messages(conversation_id)),
        confirm_word=CONFIRM_WORD,
        report=None,
    )


@admins
def delete_conversation(conversation_id: str) -> ResponseReturnValue:
    """`POST …/delete`: delete the member's data, typed confirmation required."""
    if request.form.get("confirm", "").strip().lower() != CONFIRM_WORD:
        raise BadRequest(
            gettext("Nothing was deleted: type '%(word)s' to confirm.", word=CONFIRM_WORD)
        )
    storage = services().storage
    member = find_member(storage, conversation_id=conversation_id)
    address = request.form.get("email", "").strip().lower()
    if address:
        if address not in _follow_up_addresses(member):
            raise BadRequest(
                gettext("Nothing was deleted: that address is not this conversation's.")
            )
        by_email = find_member(storage, email=address)
        conversations = sorted({*member.conversations, *by_email.conversations})
        member = MemberData(tuple(conversations), address)
    report = delete_member(storage, member)
    user = current_user()
    log.info(
        "privacy: user %d deleted a member's data from the console (%s): "
        "%d conversation(s), %d rows",
        user.id if user else 0,
        "by conversation and e-mail address" if address else "by conversation",
        report.conversations,
        report.total,
    )
    return render_template(
        "console/delete.html",
        conversation_id=conversation_id,
        addresses=[],
        messages=0,
        confirm_word=CONFIRM_WORD,
        report=report,
    )
