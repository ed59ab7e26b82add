"""The organisation tree: resellers (any depth) and their customers.

Each top-level reseller is its own MPTT tree (its own tree_id), so writes in one
reseller's tree never shift another's rows. Clients are not tree nodes (see
clients.models): they point at their customer with a plain foreign key.
"""

import secrets
import string
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

GB = 10**9
TB = 10**12
DEFAULT_USAGE_SPACE = 10 * GB
DEFAULT_TRIAL_DAYS = 30
USAGE_SPACE_CHOICES = [
    (10 * GB, "10 GB"),
    (25 * GB, "25 GB"),
    (50 * GB, "50 GB"),
    (100 * GB, "100 GB"),
    (250 * GB, "250 GB"),
    (500 * GB, "500 GB"),
    (1 * TB, "1 TB"),
    (2 * TB, "2 TB"),
    (5 * TB, "5 TB"),
    (10 * TB, "10 TB"),
    (None, "Unlimited"),
]


REGISTRATION_KEY_ALPHABET = string.ascii_letters + string.digits


def new_registration_key() -> str:
    """32 random letters and digits: about 190 bits, URL-safe, and easy to copy or type
    (no '-' that a command line could take for an option, no '_' that fonts blur)."""
    return "".join(secrets.choice(REGISTRATION_KEY_ALPHABET) for _ in range(32))


def subtree_q(node, prefix: str = "") -> Q:
    """Rows whose node (reached through `prefix`, e.g. "customer__") is `node` or below it.

    The window is `node`'s lft/rght as the statement itself reads them (subqueries on its
    row), never values read with it earlier: a write elsewhere in the tree shifts them in
    between, and a stale window takes in a neighbour's rows or drops the node's own.
    A top-level reseller holds its whole tree, and says so by tree_id alone. Otherwise,
    two separate inequalities, as a plain filter on values would have: the planner then
    estimates the window as a fair part of the tree rather than a sliver (as it does for
    a BETWEEN of unknown bounds), so its plans stay those of literal bounds; (tree_id,
    lft) stays the index range.
    """
    row = _bounds_of(node)
    if node.parent_id is None:
        return Q(**{f"{prefix}tree_id": Subquery(row.values("tree_id"))})
    return Q(
        **{
            f"{prefix}tree_id": Subquery(row.values("tree_id")),
            f"{prefix}lft__gte": Subquery(row.values("lft")),
            f"{prefix}rght__lte": Subquery(row.values("rght")),
        }
    )


def _bounds_of(node):
    return Node.objects.filter(pk=node.pk).order_by()


class TenantQuerySetMixin:
    """The one way in for reads: `visible_to(user)` is what the user's reseller subtree
    holds (everything for a superuser, nothing for a login without a reseller). The
    queryset says what "within a node" means for its rows, deciding it in the statement
    that reads them (see subtree_q)."""

    def visible_to(self: Any, user):  # self: the queryset this mixes into
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        root = reseller_of(user)
        if root is None:
            return self.none()
        return self.within(root)

    def within(self, node):  # pragma: no cover - each queryset defines it
        raise NotImplementedError


class NodeQuerySet(TenantQuerySetMixin, TreeQuerySet):
    def resellers(self):
        return self.filter(kind=Node.Kind.RESELLER)

    def customers(self):
        return self.filter(kind=Node.Kind.CUSTOMER)

    def within(self, node):
        """`node` and everything below it."""
        return self.filter(subtree_q(node))

    def above(self, node):
        """`node` and its ancestors (decided in one statement too)."""
        row = _bounds_of(node)
        return self.filter(
            tree_id=Subquery(row.values("tree_id")),
            lft__lte=Subquery(row.values("lft")),
            rght__gte=Subquery(row.values("rght")),
        )


class Node(MPTTModel):
    class Kind(models.TextChoices):
        RESELLER = "reseller", "Reseller"
        CUSTOMER = "customer", "Customer"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    # Customer settings (blank on resellers).
    contact_name = models.CharField("Contact name", max_length=200, blank=True)
    contact_email = models.EmailField("Contact email", blank=True)
    usage_space_bytes = models.BigIntegerField(
        "Usage space",
        null=True,
        blank=True,
        default=DEFAULT_USAGE_SPACE,
        help_text="Bytes; empty means unlimited.",
    )
    auto_add_clients = models.BooleanField(
        "Automatically add clients when they connect to the server", default=False
    )
    email_reports = models.BooleanField("Enable Email Reports", default=False)
    trial_days = models.PositiveIntegerField("Trial length (days)", default=DEFAULT_TRIAL_DAYS)
    registration_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Sum of the clients' storage, kept by the services that change it so that listings
    # need no aggregate over every client.
    used_bytes = models.BigIntegerField("Storage used", default=0)
    # Customers: how many clients they have, kept by the same services, so that the
    # customers table sorts by it without counting every client of the reseller.
    client_count = models.PositiveIntegerField("Clients", default=0)
    # Resellers: every admin of this reseller and of the resellers below must sign in
    # with a second factor.
    require_two_factor = models.BooleanField("Require two-factor sign-in", default=False)
    # With require_two_factor: the policy applies to the customer users below it too.
    require_two_factor_customer_users = models.BooleanField(
        "Also require it of customer users", default=False
    )
    # A reseller's setting: its customers' users may add clients and reset their passwords.
    customers_may_add_clients = models.BooleanField("Customers may add clients", default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TreeManager.from_queryset(NodeQuerySet)()

    class Meta:
        indexes = [
            # django-mptt adds this index at runtime only; declared here so migrations carry it.
            models.Index(fields=["tree_id", "lft"], name="node_tree_lft_idx"),
            models.Index(fields=["parent", "kind", "name"], name="node_parent_kind_name_idx"),
        ]
        constraints = [
            # Top-level resellers' names are the commands' --reseller key: unique among
            # them. A sub-reseller's name is unique within its top-level reseller's tree
            # only: whether another tenant uses a name is none of this one's business.
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(kind="reseller", parent__isnull=True),
                name="unique_top_reseller_name_ci",
                violation_error_message="A reseller with this name already exists.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "tree_id",
                condition=Q(kind="reseller"),
                name="unique_reseller_name_per_tree_ci",
                violation_error_message="A reseller with this name already exists.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "parent",
                condition=Q(kind="customer"),
                name="unique_customer_name_per_reseller_ci",
                violation_error_message="This reseller already has a customer with this name.",
            ),
            models.CheckConstraint(
                condition=Q(kind="reseller") | Q(parent__isnull=False),
                name="customer_has_parent",
                violation_error_message="A customer must sit under a reseller.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["reseller", "customer"]), name="node_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_reseller(self) -> bool:
        return self.kind == self.Kind.RESELLER

    @property
    def is_customer(self) -> bool:
        return self.kind == self.Kind.CUSTOMER

    def audit_scope(self):
        """(reseller, customer code, object code) its audit events are filed under."""
        reseller = self if self.is_reseller else self.parent
        return reseller, (self.code if self.is_customer else None), self.code

    @property
    def usage_space_label(self) -> str:
        from hierarchy.validators import format_bytes

        if self.usage_space_bytes is None:
            return "Unlimited"
        return format_bytes(self.usage_space_bytes)

    @property
    def over_quota(self) -> bool:
        return self.usage_space_bytes is not None and self.used_bytes > self.usage_space_bytes


class Reseller(Node):
    """Resellers only (a proxy, for the Django admin and readable code)."""

    class Meta:
        proxy = True


class Customer(Node):
    """Customers only (a proxy, for the Django admin and readable code)."""

    class Meta:
        proxy = True


class Membership(models.Model):
    """Links a login to the reseller node it administers (and so its whole subtree)."""

    class Role(models.TextChoices):
        """What the admin may do in the reseller's subtree (securecloud.accounts.permissions
        holds the table of who may do what)."""

        ADMINISTRATOR = "administrator", "Administrator"
        TECHNICIAN = "technician", "Technician"
        READ_ONLY = "read_only", "Read-only"
        BILLING = "billing", "Billing"
        # A customer's own login: it sees its customer's subtree (securecloud.accounts
        # .permissions decides what it may change there).
        CUSTOMER = "customer", "Customer user"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    reseller = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("Role", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} → {self.reseller} ({self.get_role_display()})"

    def audit_scope(self):
        """(reseller, customer code, object code) its audit events are filed under: a
        customer user's under its customer, like the customer's own events."""
        if self.reseller.is_customer:
            return self.reseller.parent, self.reseller.code, None
        return self.reseller, None, None


# The roles of a reseller's admins (a customer user is no admin): what the admin forms offer.
ADMIN_ROLE_CHOICES = [
    (value, label) for value, label in Membership.Role.choices if value != Membership.Role.CUSTOMER
]
ADMIN_ROLE_VALUES = frozenset(value for value, _label in ADMIN_ROLE_CHOICES)


def membership_query(user):
    """The query that reads a user's membership (with its reseller and that one's
    parent): an app that needs more along with it (the brand) annotates this query and
    hands the result to remember_membership, so that the page still reads it once."""
    return Membership.objects.select_related("reseller", "reseller__parent").filter(user_id=user.pk)


def membership_is_read(user) -> bool:
    return hasattr(user, "_securecloud_membership")


def remember_membership(user, membership) -> None:
    """Cache `membership` (a row of membership_query(user), or None) on the user."""
    user._securecloud_membership = membership


def membership_of(user):
    """The admin membership of a console user (with its reseller), or None: read once per
    user object and cached on it, so a page asks for it once however often it is needed."""
    if not user.is_authenticated:
        return None
    if not membership_is_read(user):
        remember_membership(user, membership_query(user).first())
    return user._securecloud_membership


def reseller_of(user):
    """The reseller node a console user administers, or None (cached on the user object)."""
    membership = membership_of(user)
    return membership.reseller if membership is not None else None


class AuditEventQuerySet(TenantQuerySetMixin, models.QuerySet):
    def within(self, node):
        """Events filed under `node`'s subtree (the reseller each event names)."""
        return self.filter(subtree_q(node, "reseller__"))


class AuditEvent(models.Model):
    """One change made through the services: who, when, from where, to what, and the
    changed fields before and after. Written in the same transaction as the change."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The login's username, or "agent <SecureCloud ID>", or "system" for commands.
    actor_label = models.CharField(max_length=300)
    origin = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=50)
    object_type = models.CharField(max_length=20)
    object_code = models.UUIDField(null=True, blank=True)
    object_repr = models.CharField(max_length=300)
    # Scoping: the reseller whose subtree held the object, and for client events the
    # customer; codes, not foreign keys, so a deleted object's history stays readable.
    reseller = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_code = models.UUIDField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["reseller", "at"], name="audit_reseller_at_idx"),
            models.Index(fields=["object_code", "at"], name="audit_object_at_idx"),
            models.Index(fields=["customer_code", "at"], name="audit_customer_at_idx"),
        ]
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"
