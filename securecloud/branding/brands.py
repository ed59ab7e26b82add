"""The brand in force for a node: what every page, email and installer card shows.

`brand_for(node)` walks up from `node` setting by setting (one query for the branding rows
of the node and its ancestors): a reseller's own value wins, else the nearest reseller
above it that sets one, else the product's default. Any email builder, any template, any
command asks this one function. `brand_for_user` is the brand of a signed-in login (its
reseller's, or its customer's reseller's), `brand_for_host` the brand of a console
address (the sign-in page reached through it).
"""

import hashlib
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Subquery
from django.http.request import validate_host
from django.urls import reverse

from hierarchy.models import (
    Node,
    reseller_of,
)
from securecloud.branding.models import Branding
from securecloud.site import site_url

DEFAULT_PRODUCT_NAME = "SecureCloud"
# The settings that inherit, in the order the Branding page shows them.
INHERITED = (
    "product_name",
    "primary_colour",
    "logo",
    "support_email",
    "support_url",
    "sender_name",
)


@dataclass(frozen=True)
class Source:
    """Where a setting's value comes from: the reseller that sets it."""

    code: UUID
    name: str


@dataclass(frozen=True)
class Brand:
    product_name: str = DEFAULT_PRODUCT_NAME
    primary_colour: str = ""
    support_email: str = ""
    support_url: str = ""
    sender_name: str = ""
    logo: str = ""
    logo_type: str = ""
    logo_digest: str = ""
    # Setting name → the reseller whose value is in force (absent: the default).
    sources: dict[str, Source] = field(default_factory=dict)

    @property
    def console_name(self) -> str:
        return f"{self.product_name} Console"

    @property
    def is_default(self) -> bool:
        return not self.sources

    @property
    def stylesheet_path(self) -> str:
        """The generated stylesheet of the colour in force ("" without a colour)."""
        source = self.sources.get("primary_colour")
        if source is None:
            return ""
        version = hashlib.sha256(self.primary_colour.encode()).hexdigest()[:12]
        return f"{reverse('branding-stylesheet', args=[source.code])}?v={version}"

    @property
    def logo_path(self) -> str:
        source = self.sources.get("logo")
        if source is None:
            return ""
        return f"{reverse('branding-logo', args=[source.code])}?v={self.logo_digest[:12]}"

    @property
    def logo_url(self) -> str:
        """The logo's absolute address under SITE_URL, for emails ("" without a logo)."""
        return site_url() + self.logo_path if self.logo_path else ""

    @property
    def has_support(self) -> bool:
        return bool(self.support_email or self.support_url)


DEFAULT_BRAND = Brand()


def resolve(rows: list[Branding]) -> Brand:
    """The brand of rows ordered from the node up to its top reseller."""
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for row in rows:
        for name in INHERITED:
            if name not in sources and getattr(row, name):
                sources[name] = Source(row.reseller.code, row.reseller.name)
                values[name] = getattr(row, name)
                if name == "logo":
                    values["logo_type"] = row.logo_type
                    values["logo_digest"] = row.logo_digest
    return Brand(**values, sources=sources)


def rows_above(node: Node) -> list[Branding]:
    """The branding rows of `node` and its ancestors, nearest first (one query: the
    rows of `Node.objects.above(node)`)."""
    # From the branding rows (a few) to their resellers, rather than from the node's
    # ancestors: an ancestor window read from the tree's index could scan half a tree.
    # The window is the node's lft/rght as this statement reads them (as `above` does).
    row = Node.objects.filter(pk=node.pk).order_by()
    return list(
        Branding.objects.filter(
            reseller__tree_id=Subquery(row.values("tree_id")),
            reseller__lft__lte=Subquery(row.values("lft")),
            reseller__rght__gte=Subquery(row.values("rght")),
        )
        .select_related("reseller")
        .order_by("-reseller__level")
    )


def brand_for(node: Node | None) -> Brand:
    """The brand in force at `node` (a reseller or a customer); the default for None."""
    if node is None:
        return DEFAULT_BRAND
    return resolve(rows_above(node))


def brand_for_user(user: Any) -> Brand:
    """The brand of a signed-in login: its reseller's (a customer user: its customer's);
    the default for a superuser, a login without a reseller and anonymous visitors.
    Read once per user object and cached on it: one small query (brand_for) after the
    membership, which every console page reads anyway.

    Not folded into the membership's query: its six settings as correlated subqueries
    (eighteen of them) cost PostgreSQL about 7 ms to plan on every page, where the
    branding rows above the reseller read on their own cost a fraction of a millisecond."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "is_superuser", False):
        return DEFAULT_BRAND
    cached: Brand | None = getattr(user, "_securecloud_brand", None)
    if cached is None:
        cached = brand_for(reseller_of(user))  # type: ignore[no-untyped-call]
        user._securecloud_brand = cached
    return cached


def normalise_host(host: str) -> str:
    """A host name as the console compares them: lower case, without port or final dot."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host  # an IPv6 literal: never a console address
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def host_is_served(host: str) -> bool:
    """Whether ALLOWED_HOSTS lets requests for `host` in (the operator adds each console
    address there, or a wildcard such as `.backup.example` that covers them)."""
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(normalise_host(host), allowed)


def reseller_for_host(host: str) -> Node | None:
    """The reseller whose console address is `host`, or None."""
    host = normalise_host(host)
    if not host:
        return None
    row = Branding.objects.select_related("reseller").filter(console_host=host).first()
    return row.reseller if row is not None else None


def brand_for_host(host: str) -> Brand:
    """The brand of the reseller whose console address is `host` (default otherwise)."""
    return brand_for(reseller_for_host(host))
