"""What members ask, what the bot misses and how fast the team responds.

`figures` counts conversations, decisions, feedback and handoff times for a
period (from the stored rows, from `rollups` for finished days, and from
`aggregates` for days whose rows the purge has removed); `gaps` groups the questions the bot could not answer into
suggestions (add phrasings to an intent, or a new intent); `browse` and
`feedback` are the queries behind the manager's pages.

Imports `content`, `matching`, `conversations`, `db` and `config`; never the server.
"""
