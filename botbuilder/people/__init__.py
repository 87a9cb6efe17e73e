"""What an admin does with the people who sign in, and the record of it.

- `service.py`: `People`: invite, change a role, reset, deactivate and
  reactivate, always keeping one active admin;
- `changes.py`: every change to an account (who, when, which account, what),
  shown in the editor's History to admins; names accounts by id only, so a
  removed account leaves no address behind;
- `links.py`: one-time links to choose a password (an invitation or a reset),
  kept as hashes and valid once, until they expire.

Imports `db` and `accounts`; never the server, never mail (the server sends
the invitation the links module words).
"""

from __future__ import annotations

from botbuilder.people.changes import AccountChange, AccountChanges
from botbuilder.people.links import PasswordLinks
from botbuilder.people.service import People, Person, generated_password

__all__ = [
    "AccountChange",
    "AccountChanges",
    "PasswordLinks",
    "People",
    "Person",
    "generated_password",
]
