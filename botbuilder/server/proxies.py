"""Behind a reverse proxy: the client's address from X-Forwarded-For, only from trusted proxies.

Anyone can send `X-Forwarded-For`, so believing it would let a client choose
the address its rate limits and login limits count against. This middleware
believes it only when the direct peer is one of `BOTBUILDER_TRUSTED_PROXIES`
(addresses or networks, comma-separated), and then takes the rightmost
address in the header that is not itself a trusted proxy: each proxy appends
the address it saw, so everything left of the first untrusted hop was written
by the client. `X-Forwarded-Proto` of that hop makes the request HTTPS (for
Secure cookies and HSTS). Werkzeug's `ProxyFix` counts hops instead of
checking who sent them, so a request that bypasses the proxy could still
spoof its address; hence this small class.

The peer's own address stays in the environ as `botbuilder.proxy_peer`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botbuilder.errors import ConfigError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["TrustedProxies", "client_address", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """The trusted proxies of a setting: "10.0.0.1, 192.168.0.0/16, ::1" or a list of them."""
    if not value:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for part in (str(p).strip() for p in parts):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ConfigError(
                f"TRUSTED_PROXIES: '{part}' is not an IP address or network; "
                "write e.g. BOTBUILDER_TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8"
            ) from exc
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def client_address(
    peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> tuple[str, int | None]:
    """The client's address, and which X-Forwarded-For entry it was (None: the peer itself)."""

    def is_trusted(text: str) -> bool:
        ip = _address(text)
        return ip is not None and any(ip in network for network in trusted)

    if not trusted or not forwarded_for or not is_trusted(peer):
        return peer, None
    hops = [hop.strip() for hop in forwarded_for.split(",")]
    for index in range(len(hops) - 1, -1, -1):
        if not is_trusted(hops[index]):
            ip = _address(hops[index])
            # Not an address: nobody to tell apart, so it counts against the proxy itself.
            return (str(ip), index) if ip is not None else (peer, None)
    return str(_address(hops[0])), 0  # every hop is a proxy of ours: the first is the client


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR (and the scheme) as the trusted proxies saw the client."""

    def __init__(self, app: WSGIApplication, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        environ["botbuilder.proxy_peer"] = peer
        client, index = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.trusted)
        if client != peer:
            environ["REMOTE_ADDR"] = client
            protos = [
                p.strip().lower() for p in environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")
            ]
            hops = len(environ.get("HTTP_X_FORWARDED_FOR", "").split(","))
            # The proto of the client's hop when every proxy wrote one, else the nearest proxy's.
            proto = protos[index] if index is not None and len(protos) == hops else protos[-1]
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)
