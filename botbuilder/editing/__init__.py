"""Changing a bot's YAML in place: forms, round-trip edits that keep comments,
the editor's overview, drafts checked before they are saved, imports turned
into drafts, and history. `FlowEditor.save` is the one writer of flow files.

Imports `content`, `db` and `interchange` (formats read into entries); never
the server, matching or conversations.
"""
