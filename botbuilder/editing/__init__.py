"""Changing a bot's YAML in place: forms, round-trip edits that keep comments,
the editor's overview, drafts checked before they are saved, and history.

Imports `content` and `db`; never the server, matching or conversations.
"""
