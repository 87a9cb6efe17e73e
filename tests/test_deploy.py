"""The deployment files: the Dockerfile installs as `make install` does, compose.yml has
the topology the test runs, and deploy/nginx.conf runs for real.

No image can be built here (no registry is reachable), so the Dockerfile's pip steps
are compared with the Makefile's, and compose.yml's wiring with what the nginx test
runs: the same deploy/nginx.conf, rendered with two `botbuilder serve` replicas on
127.0.0.1 instead of bot-a:5000 and bot-b:5000, one database, a real nginx in front
and a real Chromium asking the widget a question through it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from .conftest import PG_URL, ROOT
from .serve_replicas import Replica, bot_without_limits
from .servers import free_port

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{(BOTBUILDER_[A-Z_]+)\}")
SECRET = "deploy-test-secret-" + "0" * 32  # the same on both replicas, as compose.yml says


# -- the Dockerfile and the Makefile ---------------------------------------------------


def makefile_install_steps() -> list[str]:
    """The commands of the Makefile's install recipe ($(STAMP)), with its variables filled in."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+)\s*[:?]?=\s*(.*?)\s*$", text, re.MULTILINE))
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "the Makefile has no $(STAMP) recipe"
    steps = []
    for line in recipe.group(1).splitlines():
        command = line.strip()
        for _ in range(3):  # $(BIN) is $(VENV)/bin
            command = re.sub(
                r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), command
            )
        steps.append(command)
    return steps


def dockerfile_run_steps() -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [" ".join(m.split()) for m in re.findall(r"^RUN\s+(.*)$", text, re.MULTILINE)]


def test_dockerfile_pip_steps_are_the_makefiles_in_the_same_order() -> None:
    make = [shlex.split(s) for s in makefile_install_steps() if "pip install" in s]
    docker = [shlex.split(s) for s in dockerfile_run_steps() if "pip install" in s]
    assert len(make) == 3, make  # pip itself, torch pinned, then the package
    assert docker == make
    torch = next(i for i, step in enumerate(docker) if "torch==2.13.0" in step)
    package = next(i for i, step in enumerate(docker) if any(a.startswith(".[") for a in step))
    assert torch < package  # an unpinned torch pulled in by the package would be CUDA's


def test_dockerfile_makes_the_venv_as_the_makefile_does_and_runs_as_a_user() -> None:
    make_venv = next(s for s in makefile_install_steps() if "-m venv" in s)
    assert make_venv.endswith("python3 -m venv .venv")  # test -x … || python3 -m venv .venv
    assert "python3 -m venv .venv" in dockerfile_run_steps()
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER botbuilder$", text, re.MULTILINE)
    assert "download.pytorch.org/whl/cpu" in text  # the CPU build, as the Makefile's
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "instance", ".git"} <= set(ignored)


# -- compose.yml and the tested topology -----------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_compose_puts_two_replicas_on_one_postgresql_behind_the_tested_nginx_conf() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "bot-a", "bot-b", "nginx"}
    assert services["db"]["image"].startswith("postgres:")
    nginx = services["nginx"]
    assert "./nginx.conf:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"]
    names = set(PLACEHOLDER.findall((DEPLOY / "nginx.conf").read_text(encoding="utf-8")))
    assert (
        names
        == set(nginx["environment"])
        == {
            "BOTBUILDER_LISTEN",
            "BOTBUILDER_REPLICA_A",
            "BOTBUILDER_REPLICA_B",
        }
    )
    proxy = nginx["networks"]["botbuilder"]["ipv4_address"]
    port = re.search(r'"--port", "(\d+)"', (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert port is not None
    for name, replica in (("bot-a", "BOTBUILDER_REPLICA_A"), ("bot-b", "BOTBUILDER_REPLICA_B")):
        bot = services[name]
        assert nginx["environment"][replica] == f"{name}:{port.group(1)}"
        environment = bot["environment"]
        assert environment["BOTBUILDER_DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in environment["BOTBUILDER_DATABASE_URL"]
        assert environment["BOTBUILDER_TRUSTED_PROXIES"] == proxy  # nginx's X-Forwarded-For
        assert "BOTBUILDER_SECRET_KEY" in environment  # one secret for both replicas
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_systemd_unit_runs_serve_as_a_user_with_an_environment_file() -> None:
    unit = (DEPLOY / "botbuilder.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1].isalpha()
    )
    assert settings["User"] == "botbuilder" and settings["EnvironmentFile"].startswith("/etc/")
    assert " serve " in settings["ExecStart"] and "--host 127.0.0.1" in settings["ExecStart"]
    example = (DEPLOY / "botbuilder.env.example").read_text(encoding="utf-8")
    assert "BOTBUILDER_SECRET_KEY=" in example and "POSTGRES_PASSWORD=" in example


def test_systemd_analyze_finds_nothing_wrong_in_the_unit_but_the_uninstalled_program(
    tmp_path: Path,
) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "botbuilder.service"
    shutil.copy(DEPLOY / "botbuilder.service", unit)
    verified = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (verified.stdout + verified.stderr).splitlines()
        if line.strip() and "/opt/botbuilder/.venv/bin/botbuilder is not executable" not in line
    ]
    assert not problems, problems  # an unknown key or a bad value would be listed


# -- nginx for real ---------------------------------------------------------------------


def render_nginx(values: dict[str, str]) -> str:
    """deploy/nginx.conf with its ${BOTBUILDER_…} filled in, as the nginx image does."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    rendered = PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    assert "${" not in rendered
    return rendered


def nginx_main_conf(work: Path, site: Path) -> str:
    """The test's nginx.conf around the site: its own paths, and the upstream in the log."""
    user = "user root root;" if os.geteuid() == 0 else ""  # temp files live in root's tmp
    return f"""{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {work}/access.log upstream;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {site};
}}
"""


def _nginx_missing() -> str | None:
    if Path(NGINX).exists():
        return None
    if os.environ.get("CI"):
        pytest.fail("nginx is not installed; CI installs it (.ci/system-deps.sh)")
    return "nginx is not installed (make system-deps)"


def test_the_rendered_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    if reason := _nginx_missing():
        pytest.skip(reason)
    site = tmp_path / "botbuilder.conf"
    site.write_text(
        render_nginx(
            {
                "BOTBUILDER_LISTEN": f"127.0.0.1:{free_port()}",
                "BOTBUILDER_REPLICA_A": "127.0.0.1:5001",
                "BOTBUILDER_REPLICA_B": "127.0.0.1:5002",
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "nginx.conf").write_text(nginx_main_conf(tmp_path, site), encoding="utf-8")
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr


@contextlib.contextmanager
def running_nginx(work: Path, a: Replica, b: Replica) -> Iterator[str]:
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    site = work / "botbuilder.conf"
    site.write_text(
        render_nginx(
            {
                "BOTBUILDER_LISTEN": f"127.0.0.1:{port}",
                "BOTBUILDER_REPLICA_A": a.address,
                "BOTBUILDER_REPLICA_B": b.address,
            }
        ),
        encoding="utf-8",
    )
    conf = work / "nginx.conf"
    conf.write_text(nginx_main_conf(work, site), encoding="utf-8")
    process = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=(work / "nginx.stderr").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, (work / "nginx.stderr").read_text()
            assert time.monotonic() < deadline, "nginx did not answer in 20 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[str]:
    """One database for both replicas: PostgreSQL as in compose.yml when the tests have
    one, else one SQLite file (the replicas share this machine)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'shared.sqlite'}"
        return
    import uuid

    import psycopg

    name = f"bb_deploy_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_URL.rpartition('/')[0]}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Few conversations per address: shows which address the replicas count.
COUNTED = """
limits:
  conversations_per_ip: 2/minute
"""


def post_from(source: str, url: str, path: str, headers: dict[str, str]) -> int:
    """POST {} from the loopback address `source` (127.0.0.2, …): another client."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        connection.request(
            "POST", path, body="{}", headers={"Content-Type": "application/json", **headers}
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, as tests/browser/ use it."""
    from .browser.helpers import CHROMIUM, CHROMIUM_ARGS

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"chromium not found at {CHROMIUM}; CI installs it")
        pytest.skip(f"chromium not found at {CHROMIUM} (make system-deps)")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


def test_nginx_in_front_of_two_replicas_serves_the_widget_and_survives_one_going_down(
    tmp_path: Path, shared_database: str, chromium: Any
) -> None:
    from playwright.sync_api import expect

    from .browser.csp import watch_csp
    from .browser.helpers import Widget, screenshot

    if reason := _nginx_missing():
        pytest.skip(reason)
    browser = chromium
    flows = bot_without_limits(tmp_path / "flows", COUNTED)
    env = {"BOTBUILDER_SECRET_KEY": SECRET, "BOTBUILDER_TRUSTED_PROXIES": "127.0.0.1"}
    a = Replica(tmp_path / "a", flows, shared_database, env=env)
    b = Replica(tmp_path / "b", flows, shared_database, env=env)
    a.start(wait=False), b.start(wait=False)
    try:
        a.wait(), b.wait()
        with running_nginx(tmp_path / "nginx", a, b) as url:
            _widget_answers_through_nginx(browser, url, Widget, expect, watch_csp, screenshot)
            _files_bodies_and_metrics_through_nginx(url)
            _client_addresses_through_nginx(url)
            log = (tmp_path / "nginx" / "access.log").read_text(encoding="utf-8")
            assert a.address in log and b.address in log, "nginx used one replica only"

            a.kill()
            answers = [requests.get(url + "/ready", timeout=15).status_code for _ in range(6)]
            started = [post_from("127.0.0.4", url, "/api/v1/conversations", {}) for _ in range(2)]
            assert answers == [200] * 6 and started == [201] * 2  # b took them all
    finally:
        a.stop(), b.stop()


def _widget_answers_through_nginx(
    browser: Any, url: str, Widget: Any, expect: Any, watch_csp: Any, screenshot: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nl-NL")
    context.set_default_timeout(20_000)
    page = context.new_page()
    violations = watch_csp(page)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(url + "/")
        widget = Widget(page)
        widget.launcher.click()
        try:
            expect(widget.bot_bubbles.first).to_be_visible(timeout=30_000)  # the greeting
        except AssertionError:
            raise AssertionError(f"refused through nginx: {failed}") from None
        widget.ask("Hoe zeg ik mijn lidmaatschap op?")
        answer = widget.bot_bubbles.last
        expect(answer).to_contain_text("Je zegt op via Mijn account → Lidmaatschap.")
        screenshot(page, "deploy-widget-through-nginx")
        assert not violations, violations
    finally:
        context.close()


def _files_bodies_and_metrics_through_nginx(url: str) -> None:
    widget = requests.get(url + "/widget.js", headers={"Accept-Encoding": "gzip"}, timeout=15)
    assert widget.headers["Content-Encoding"] == "gzip"  # the app's, once: nginx adds none
    assert widget.content == (ROOT / "web" / "static" / "widget.js").read_bytes()
    assert widget.headers.get("ETag")
    upload = {"file": ("flows.yml", b"a: " + b"x" * (1536 * 1024), "text/yaml")}
    reached = requests.post(
        url + "/editor/transfer/preview", files=upload, timeout=60, allow_redirects=False
    )
    assert reached.status_code in (302, 303, 401, 403), reached.text[:200]  # the app's login
    assert requests.get(url + "/metrics", timeout=15).status_code == 404
    health = requests.get(url + "/health", timeout=15)
    assert health.json() == {
        "status": "ok",
        "version": health.json()["version"],
        "bot": "Testvereniging",
    }


def _client_addresses_through_nginx(url: str) -> None:
    """Each client is counted by its own address, and cannot choose another with
    X-Forwarded-For: nginx appends the real one, the replicas trust only nginx."""
    path = "/api/v1/conversations"
    for spoof in ("203.0.113.1", "203.0.113.2"):
        assert post_from("127.0.0.2", url, path, {"X-Forwarded-For": spoof}) == 201
    assert post_from("127.0.0.2", url, path, {"X-Forwarded-For": "203.0.113.3"}) == 429
    assert post_from("127.0.0.3", url, path, {}) == 201  # another client: its own limit
