"""Where a webhook may point. By default only https, and only to a host whose every
address is public: a loopback, private, link-local, shared, multicast or reserved
address (IPv4, IPv6, or IPv4 inside IPv6) is refused, as a literal or as what a name
resolves to. Checked when a webhook is saved and again at each delivery, whose
connection then goes to the very address checked (a name that resolves elsewhere the
second time, DNS rebinding, cannot reach inside). WEBHOOK_ALLOW_PRIVATE=1 allows
internal addresses and plain http (on-premises receivers, tests)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def parse_url(url: str, *, private_ok: bool | None = None) -> Target:
    """The URL's parts, or ValidationError: https (http only with private addresses
    allowed), a host, no user name or password in it."""
    private_ok = allow_private() if private_ok is None else private_ok
    url = (url or "").strip()
    if not url:
        raise ValidationError("Enter the webhook's URL.", code="required")
    if len(url) > MAX_URL_LENGTH or any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise ValidationError("Enter a valid URL.", code="invalid")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("Enter a valid URL.", code="invalid") from None
    allowed = ("https", "http") if private_ok else ("https",)
    if parts.scheme not in allowed:
        raise ValidationError("The URL must start with https://.", code="scheme")
    if not parts.hostname:
        raise ValidationError("Enter a valid URL.", code="invalid")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("Leave the user name and password out of the URL.", code="userinfo")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, path)


def is_internal(address: IPAddress) -> bool:
    """Anything but a global unicast address (IPv4 inside IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_internal(embedded)
        if address.teredo is not None:
            return True
    return not address.is_global or address.is_multicast


def resolve(target: Target, *, private_ok: bool | None = None) -> list[IPAddress]:
    """The host's addresses (a literal is its own), refusing the URL when any of them is
    internal, unless private addresses are allowed."""
    private_ok = allow_private() if private_ok is None else private_ok
    host = target.host
    addresses = _literal(host) or _lookup(host, target.port)
    if not private_ok and any(is_internal(address) for address in addresses):
        raise ValidationError(
            "The URL points to an internal address (loopback, private, link-local or "
            "reserved); webhooks go to public addresses only.",
            code="internal",
        )
    return addresses


def _literal(host: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return []


def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ValidationError(f"The host {host} could not be found.", code="unresolved")
    return addresses


def check_url(url: str) -> str:
    """The URL as it is saved, or ValidationError (the save-time check)."""
    target = parse_url(url)
    resolve(target)
    return url.strip()
