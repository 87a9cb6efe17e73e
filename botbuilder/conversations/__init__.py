"""Members' conversations: the store, the dialogue that answers each turn,
office hours, the handoff queue, agent presence, follow-ups and team webhooks.

Imports `content`, `matching` and `db`; never editing or the server.
"""
