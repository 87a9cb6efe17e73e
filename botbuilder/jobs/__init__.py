"""Work that runs on a schedule, once across replicas: the weekly digest, the daily purge.

A replica claims each run of a job in the database (one row per job and
period), so several replicas on one PostgreSQL send one digest, not three.

Imports the core rooms it schedules (`insights`, `privacy`, `integrations`, …); never the server.
"""
