"""The instance folder holds password hashes, transcripts and e-mail addresses: only
its owner may read it. Folder 0700; database, secret key and embeddings cache 0600;
an existing folder or file left open by an older version is tightened, with a warning."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from botbuilder.cli import main
from botbuilder.server import create_app

from .conftest import SMALL_BOT

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def wide_umask():  # type: ignore[no-untyped-def]
    """The common default umask, under which files used to come out 644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_create_app_makes_the_instance_folder_and_its_files_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    monkeypatch.delenv("BOTBUILDER_SECRET_KEY", raising=False)
    instance = tmp_path / "instance"
    app = create_app({"FLOWS_DIR": str(SMALL_BOT), "INSTANCE_PATH": str(instance)})
    try:
        assert mode(instance) == 0o700
        for name in ("botbuilder.sqlite", "secret_key", "embeddings.sqlite"):
            assert mode(instance / name) == 0o600, name
        for companion in instance.glob("botbuilder.sqlite-*"):  # the WAL files
            assert mode(companion) == 0o600, companion.name
    finally:
        app.extensions["botbuilder"].storage.close()


def test_user_add_makes_a_new_instance_folder_and_database_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    instance = tmp_path / "new" / "instance"
    result = CliRunner().invoke(
        main,
        ["user", "add", "a@example.org", "--password-stdin", "--instance", str(instance)],
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert mode(instance) == 0o700
    assert mode(instance / "botbuilder.sqlite") == 0o600


def test_an_existing_open_instance_is_tightened_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("BOTBUILDER_DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    (instance / "secret_key").write_text("0" * 64)
    (instance / "botbuilder.sqlite").touch()
    os.chmod(instance / "secret_key", 0o644)
    os.chmod(instance / "botbuilder.sqlite", 0o644)
    with caplog.at_level(logging.WARNING, logger="botbuilder.db.engine"):
        app = create_app({"FLOWS_DIR": str(SMALL_BOT), "INSTANCE_PATH": str(instance)})
    app.extensions["botbuilder"].storage.close()
    assert mode(instance) == 0o700
    assert mode(instance / "secret_key") == 0o600
    assert mode(instance / "botbuilder.sqlite") == 0o600
    assert "could be read by other users" in caplog.text
