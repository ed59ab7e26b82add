"""One access helper per object type: the only way a view reaches an object.

Each looks the object up by its opaque code among what the user may see, and answers
404 for anything else, so another reseller's object is indistinguishable from none.
"""

from uuid import UUID

from django.shortcuts import get_object_or_404

from hierarchy.actors import Viewer
from hierarchy.models import Membership, Node


def get_node_for_user(user: Viewer, code: UUID | str) -> Node:
    node: Node = get_object_or_404(
        Node.objects.visible_to(user).select_related("parent"), code=code
    )
    return node


def get_reseller_for_user(user: Viewer, code: UUID | str) -> Node:
    node: Node = get_object_or_404(
        Node.objects.visible_to(user).resellers().select_related("parent"), code=code
    )
    return node


def get_customer_for_user(user: Viewer, code: UUID | str) -> Node:
    node: Node = get_object_or_404(
        Node.objects.visible_to(user).customers().select_related("parent"), code=code
    )
    return node


def get_membership_for_user(user: Viewer, code: UUID | str) -> Membership:
    """An admin login of a reseller the user may see (its own reseller or below)."""
    return get_object_or_404(
        Membership.objects.filter(reseller__in=Node.objects.visible_to(user)).select_related(
            "user", "reseller"
        ),
        code=code,
    )
