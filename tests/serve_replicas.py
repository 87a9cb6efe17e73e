"""Replicas for the fault and deployment tests: real `botbuilder serve` processes of one
bot on one database, each with its own port and instance folder, that a test may kill
with SIGKILL and start again on the same port."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .conftest import SMALL_BOT
from .servers import botbuilder_command, free_port, stop, wait_until_healthy

# Load from one address on one conversation: far above what a member sends.
UNLIMITED = """
limits:
  conversations_per_ip: 100000/minute
  messages_per_ip: 100000/minute
  messages_per_conversation: 100000/minute
"""


def bot_without_limits(target: Path, limits: str = UNLIMITED) -> Path:
    """A copy of the small bot whose rate limits a load from one address would not hit."""
    shutil.copytree(SMALL_BOT, target)
    with (target / "bot.yml").open("a", encoding="utf-8") as bot:
        bot.write(limits)
    return target


class Replica:
    """One `botbuilder serve` process of `flows`, on its own port and instance folder."""

    def __init__(
        self,
        work: Path,
        flows: Path,
        database_url: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.work, self.flows, self.database_url = work, flows, database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        work.mkdir(parents=True, exist_ok=True)

    def start(self, wait: bool = True) -> Replica:
        env = dict(os.environ, BOTBUILDER_DATABASE_URL=self.database_url)
        env.update(BOTBUILDER_SCHEDULER="off", PYTHONUNBUFFERED="1", **self.env)
        log = (self.work / "server.log").open("ab")
        command = [*botbuilder_command(), "serve", str(self.flows), "--port", str(self.port)]
        command += ["--instance", str(self.work / "instance")]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            self.wait()
        return self

    def wait(self) -> None:
        assert self.process is not None
        # Generous: other tests may share the machine's cores while the model loads.
        wait_until_healthy(self.url + "/ready", self.process, self.work / "server.log", 300)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up at all
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process, timeout=20)
