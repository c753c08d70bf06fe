"""POST to a URL a manager typed, without letting it reach our own network.

Only http(s). The host is resolved and *every* address it resolves to must be public (not loopback,
private, link-local, shared, multicast, reserved or unspecified) unless the
`S2O_WEBHOOK_ALLOW_PRIVATE` setting says otherwise; then the connection goes to the address that
was checked, never to a second lookup (a DNS answer that changes between check and connect — DNS
rebinding — cannot steer it). TLS still verifies the certificate against the host name. Redirects
are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESPONSE_EXCERPT_BYTES = 500


class UnsafeDestination(ValueError):
    """The URL is not one we may send to; the message says why, for the manager to read."""


def parse_url(url: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError as exc:
        raise UnsafeDestination(f"This is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise UnsafeDestination("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeDestination("Put no user name or password in the URL; deliveries are signed instead.")
    return parts


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(f"The host “{host}” could not be resolved ({exc}).") from None
    addresses: list[IPAddress] = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_destination(url: str, *, allow_private: bool | None = None) -> tuple[SplitResult, list[IPAddress]]:
    """The URL's parts and the addresses we may connect to; UnsafeDestination if any is refused."""
    allow_private = settings.S2O_WEBHOOK_ALLOW_PRIVATE if allow_private is None else allow_private
    parts = parse_url(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname or "", port)
    if not addresses:
        raise UnsafeDestination(f"The host “{parts.hostname}” has no address.")
    refused = [a for a in addresses if not is_public(a)]
    if refused and not allow_private:
        raise UnsafeDestination(
            f"“{parts.hostname}” points into a private, loopback or link-local network ({refused[0]}): "
            "webhooks go only to public addresses."
        )
    return parts, addresses


def _connect_checked(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """Connect to the first of the checked addresses that answers (never to a fresh lookup)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses
        self._timeout = timeout

    def connect(self) -> None:
        self.sock = _connect_checked(self._addresses, self.port, self._timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._addresses = addresses
        self._timeout = timeout

    def connect(self) -> None:
        sock = _connect_checked(self._addresses, self.port, self._timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)  # verifies the host name


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    duration_ms: int


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> Response:
    """POST `body` to `url` after checking where it goes; raises UnsafeDestination or OSError."""
    parts, addresses = check_destination(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname or "", port, addresses=addresses, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Response(response.status, excerpt, int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
