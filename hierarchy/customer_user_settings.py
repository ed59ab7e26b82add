"""A reseller's settings for its customers' own logins (customer users): whether they
may add clients (and reset their clients' passwords), and whether the reseller's
two-factor policy reaches them. Audited like every service write."""

from django.core.exceptions import ValidationError
from django.db import transaction

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node

# A reseller's settings for its customers' own logins (customer users).
CUSTOMER_USER_SETTINGS = ("customers_may_add_clients", "require_two_factor_customer_users")


def set_customer_user_settings(
    reseller: Node,
    *,
    customers_may_add_clients: bool,
    require_two_factor_customer_users: bool,
    acting_user: ActingUser,
    origin: str,
) -> Node:
    """A reseller's settings for its customers' users: whether they may add clients (and
    reset their passwords), and whether its two-factor policy applies to them too."""
    if not reseller.is_reseller:
        raise ValidationError("Only a reseller has these settings.", code="not_reseller")
    new = {
        "customers_may_add_clients": bool(customers_may_add_clients),
        "require_two_factor_customer_users": bool(require_two_factor_customer_users),
    }
    with transaction.atomic():
        reseller = Node.objects.select_for_update().get(pk=reseller.pk)
        changes = {
            field: [getattr(reseller, field), value]
            for field, value in new.items()
            if getattr(reseller, field) != value
        }
        if not changes:
            return reseller
        for field, value in new.items():
            setattr(reseller, field, value)
        reseller.save(update_fields=[*CUSTOMER_USER_SETTINGS, "updated_at"])
        audit.record(
            "reseller.customer_user_settings",
            reseller,
            acting_user=acting_user,
            origin=origin,
            changes=changes,
        )
    return reseller
