"""Shared fixtures: real parts only — the bundled model, SQLite files, PostgreSQL when
BOTBUILDER_TEST_DATABASE_URL is set, the Flask test client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from botbuilder.conversations.store import Storage
from botbuilder.matching.encoder import CachedEncoder, SentenceTransformerEncoder
from tests.insights_rows import Rows

ROOT = Path(__file__).resolve().parent.parent
SMALL_BOT = Path(__file__).parent / "fixtures" / "small_bot"
EXAMPLE_FLOWS = ROOT / "flows"
PG_URL = os.environ.get("BOTBUILDER_TEST_DATABASE_URL")

DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs against PostgreSQL (BOTBUILDER_TEST_DATABASE_URL)"
    )


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache") / "embeddings.sqlite"


@pytest.fixture(scope="session")
def encoder(embedding_cache: Path) -> CachedEncoder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return CachedEncoder(SentenceTransformerEncoder(), embedding_cache)


@pytest.fixture
def bot_dir(tmp_path: Path) -> Path:
    """A writable copy of the small test bot."""
    target = tmp_path / "flows"
    shutil.copytree(SMALL_BOT, target)
    return target


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("BOTBUILDER_TEST_DATABASE_URL is not set")
    import psycopg

    name = f"bb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    """A `Storage` on each test database (a module may define its own)."""
    storage = Storage(database_url)
    yield storage
    storage.close()


@pytest.fixture
def rows(storage: Storage) -> Rows:
    """Conversations written straight into `storage`'s tables (tests/insights_rows.py)."""
    return Rows(storage)


@pytest.fixture
def app_factory(tmp_path: Path, embedding_cache: Path, encoder: CachedEncoder):  # type: ignore[no-untyped-def]
    """Build apps on real files; the encoder fixture has the model loaded already."""
    from botbuilder.server import create_app

    def make(flows: Path, database_url: str | None = None, **config: object):  # type: ignore[no-untyped-def]
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        shutil.copy(
            embedding_cache, instance / "embeddings.sqlite"
        ) if embedding_cache.exists() else None
        settings = {
            "FLOWS_DIR": str(flows),
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'app.sqlite'}",
            "RELOAD_INTERVAL": 0,
        }
        settings.update(config)
        return create_app(settings)

    return make


@pytest.fixture
def app(app_factory, bot_dir: Path, database_url: str):  # type: ignore[no-untyped-def]
    application = app_factory(bot_dir, database_url)
    yield application
    application.extensions["botbuilder"].storage.close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
