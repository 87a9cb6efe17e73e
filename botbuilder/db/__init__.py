"""The database: the declarative base (`base`), the engine and its sessions
(`engine`), the rule for a row id that comes from a request (`ids`), and the
Alembic migrations that shape the schema.

Imports nothing else of botbuilder but `errors`; every room with tables imports
it. (`migrations/env.py` alone imports those rooms, to show Alembic every table.)
"""
