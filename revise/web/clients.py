"""Who the client is: the real address behind the proxies the operator trusts, and rate-limit keys.

uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so anyone behind a same-host proxy
could name any address and dodge per-client limits (issue #10). revise starts uvicorn with its
proxy handling off (revise/serving.py) and does it here instead, in the app itself, so the same
rule holds whatever server runs it: the forwarded headers count only when the immediate peer is
one of the configured proxies, and then the client is the rightmost address not a proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The trusted proxies as networks ("10.0.0.5", "10.0.0.0/8", "::1"); ValueError names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(entry) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An IP address from a header hop ("1.2.3.4", "1.2.3.4:5678", "[::1]:80"), or None."""
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def real_client(forwarded_for: str, peer: str, trusted: tuple[Network, ...]) -> str:
    """The client named by X-Forwarded-For, read from the right past the trusted proxies.

    Each proxy appends the address it was reached from, so only the hops our own proxies
    added can be believed: the first one from the right that is not a proxy is the client.
    A hop that is not an address means the chain is not what the operator described:
    the peer itself is taken then, never the string that was sent.
    """
    hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer
        client = str(address)
        if not any(address in network for network in trusted):
            return client
    return client


class ForwardedClient:
    """Rewrites scope["client"] and scope["scheme"] from X-Forwarded-For/-Proto sent by a trusted proxy."""

    KEPT = 4096  # answers remembered (peers, forwarded chains); cleared when full: clients choose them

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()):
        self.app = app
        self.trusted = parse_networks(trusted)
        # Parsing addresses was ~15 µs of every request behind a proxy (issue #11); the answers
        # depend on the text alone, so each distinct text is parsed once.
        self._peers: dict[str, bool] = {}
        self._chains: dict[tuple[str, str], str] = {}

    def _trusted(self, host: str) -> bool:
        known = self._peers.get(host)
        if known is None:
            if len(self._peers) >= self.KEPT:
                self._peers.clear()
            address = _address(host)
            known = self._peers[host] = address is not None and any(address in network for network in self.trusted)
        return known

    def _client(self, forwarded: str, peer: str) -> str:
        key = (forwarded, peer)
        known = self._chains.get(key)
        if known is None:
            if len(self._chains) >= self.KEPT:
                self._chains.clear()
            known = self._chains[key] = real_client(forwarded, peer, self.trusted)
        return known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(self.rewrite(scope), receive, send)

    def rewrite(self, scope: Scope) -> Scope:
        """The scope as the app sees it: a copy with the real client and scheme when a trusted proxy sent it."""
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.trusted and peer and self._trusted(peer[0]):
            forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
            protos = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-proto"]
            scope = dict(scope)
            if forwarded:
                scope["client"] = (self._client(",".join(forwarded), peer[0]), 0)
            # The nearest proxy's value, the only one it can vouch for.
            proto = protos[-1].split(",")[-1].strip().lower() if protos else ""
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        return scope


def client_address(request: Request) -> str:
    """The real client's address (after ForwardedClient), "unknown" when the server gives none."""
    return request.client.host if request.client else "unknown"


def submission_key(request: Request, department: dict | None) -> str:
    """What comment rate limits count against: a department's private link, else the client address.

    A department's staff share an office address with the rest of their building, and the link
    is what identifies them: limiting the link neither locks out the office nor lets it spread
    one department's quota over many addresses.
    """
    return f"dept:{department['id']}" if department is not None else client_address(request)
