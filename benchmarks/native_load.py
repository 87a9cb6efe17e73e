"""Load from `wrk` (a native HTTP load generator), when it is installed.

The load test's Python client shares the machine's cores with the server and
tops out at a few hundred requests a second, so for cached questions it
measured itself. `wrk` (`apt-get install wrk`) costs a fraction of that.
With several server processes, one `wrk` per port runs at once and the
figures are summed. Without `wrk` the load test says so and keeps the Python
client's figure.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkResult", "available", "run"]

# wrk calls request() for each request: cycle through the bodies; done() prints p50 and p95.
_SCRIPT = """
bodies = {%s}
local n = 0
request = function()
  n = n %% #bodies + 1
  return wrk.format("%s", "%s", {["Content-Type"] = "application/json"}, bodies[n])
end
done = function(summary, latency, requests)
  io.write(string.format("P50 %%d\\nP95 %%d\\nCOUNT %%d\\nDURATION %%d\\nERRORS %%d\\nSOCKET %%d\\n",
    latency:percentile(50), latency:percentile(95), summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    errors: int  # non-2xx/3xx answers
    # Connections wrk dropped or gave up on (its 2 s timeout): slowness, not an answer.
    socket_errors: int = 0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def run(
    ports: list[int],
    path: str,
    bodies: list[dict[str, str]] | None,
    connections: int,
    seconds: float,
) -> WrkResult:
    """`connections` spread over `ports`, POSTing `bodies` in turn (GET without bodies)."""
    method = "POST" if bodies else "GET"
    encoded = ", ".join(_lua_string(json.dumps(b)) for b in bodies or [{}])
    with tempfile.TemporaryDirectory(prefix="botbuilder-wrk-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(_SCRIPT % (encoded, method, path), encoding="utf-8")
        each = max(1, connections // len(ports))
        runs = [
            subprocess.Popen(
                ["wrk", "-t1", f"-c{each}", f"-d{seconds:.0f}s", "-s", str(script)]
                + [f"http://127.0.0.1:{port}{path}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for port in ports
        ]
        outputs = [r.communicate(timeout=seconds + 60)[0] for r in runs]
    found = [_parse(out) for out in outputs]
    return WrkResult(
        requests=sum(f["COUNT"] for f in found),
        seconds=max(f["DURATION"] for f in found) / 1e6,  # microseconds in wrk
        p50_ms=max(f["P50"] for f in found) / 1000,  # microseconds in wrk
        p95_ms=max(f["P95"] for f in found) / 1000,
        errors=sum(f["ERRORS"] for f in found),
        socket_errors=sum(f["SOCKET"] for f in found),
    )


def _parse(output: str) -> dict[str, int]:
    found = {
        k: int(v)
        for k, v in re.findall(r"^(P50|P95|COUNT|DURATION|ERRORS|SOCKET) (\d+)$", output, re.M)
    }
    if len(found) != 6:
        raise RuntimeError(f"wrk gave no figures:\n{output[-2000:]}")
    return found
