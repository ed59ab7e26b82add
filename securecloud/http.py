"""What views read from a request, whoever serves it (console, accounts, agent API,
Django admin): the client's address behind trusted proxies, the origin the audit log
records, the data a form binds to and a search term."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, QueryDict


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connection's own, unless TRUSTED_PROXY_COUNT proxies
    stand in front, in which case it is the entry those proxies appended to
    X-Forwarded-For (counted from the right, as each proxy appends the address it saw).
    Anything a client writes into the header itself sits further left and is ignored.
    """
    remote = (request.META.get("REMOTE_ADDR", "") or "unknown")[:100]
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:  # not an address: a misconfigured proxy, so trust the connection
        return remote


# An IPv6 host usually holds a whole /64 (a server, a home line): a limit that counted
# single IPv6 addresses would let it guess from a new address every time.
IPV6_LIMIT_PREFIX = 64


def limit_address(ip: str) -> str:
    """The address that rate limits and lockouts count: an IPv4 address as it is (an
    IPv4-mapped IPv6 one as its IPv4 address), an IPv6 address as the first address of
    its /64; anything else unchanged."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, IPV6_LIMIT_PREFIX), strict=False)
        return str(network.network_address)
    return str(address)


def axes_client_ip(request: HttpRequest) -> str | None:
    """django-axes stores the address in an IP column: an address (an IPv6 one as its
    /64, see limit_address), or None when the request has none (a test client's
    force_login, a misconfigured server)."""
    address = client_ip(request)
    try:
        return limit_address(str(ipaddress.ip_address(address)))
    except ValueError:
        return None


def request_origin(request: HttpRequest, channel: str = "console") -> str:
    """What the audit log records as the origin of a change: the channel and the address."""
    return f"{channel} {client_ip(request)}"


def origin_of(request: HttpRequest) -> str:
    """What the audit log records as the origin of a console change."""
    return request_origin(request, "console")


def form_data(request: HttpRequest) -> QueryDict | None:
    """The data a form binds to: the POST, even one without fields (it still gets its
    "required" errors), or None for a GET, which shows the form unbound."""
    return request.POST if request.method == "POST" else None


def search_term(request: HttpRequest, limit: int = 100) -> str:
    """The `q` parameter, trimmed, without control characters (PostgreSQL refuses NUL in
    a query, and none belongs in a name, an ID or an email)."""
    raw = request.GET.get("q") or ""
    return "".join(ch for ch in raw if ch.isprintable()).strip()[:limit]
