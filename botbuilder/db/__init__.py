"""The database: the declarative base, the engine and its Alembic migrations.

Imports nothing else of botbuilder but `errors`; every room with tables imports it.
"""
