"""Alembic environment: runs on the connection `botbuilder.db.migrations.upgrade` passes in.

The imports below register every room's tables on the one `Base.metadata`, so
`alembic revision --autogenerate` compares the migrations with all of them.
"""

from __future__ import annotations

from alembic import context

import botbuilder.accounts
import botbuilder.conversations.followups
import botbuilder.conversations.idempotency
import botbuilder.conversations.notify
import botbuilder.conversations.presence
import botbuilder.conversations.queue
import botbuilder.conversations.rate_limits
import botbuilder.conversations.store
import botbuilder.editing.history  # noqa: F401
import botbuilder.editing.publications  # noqa: F401
import botbuilder.insights.aggregates  # noqa: F401
import botbuilder.insights.inbox_store  # noqa: F401
import botbuilder.jobs.scheduler  # noqa: F401
import botbuilder.people.changes  # noqa: F401
import botbuilder.people.links  # noqa: F401
from botbuilder.db.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
