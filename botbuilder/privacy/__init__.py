"""Members' personal data under the AVG/GDPR: retention, deletion and export on request.

`retention` deletes what is older than `privacy.retention_days` (bot.yml) and
conversations in which the member never wrote; `requests` finds everything
stored about one member (by conversation id or e-mail address), exports it
as JSON or deletes it, logging counts only; `tables` reads the schema from
the database itself, so a table added later is searched too.

Imports `content`, `conversations`, `db` and `accounts`; never the server.
"""
