"""The access helper for clients (hierarchy.access has the tree's): the only way a view
reaches a client. A client outside what the user may see answers 404, like none."""

from django.shortcuts import get_object_or_404

from clients.models import Client


def get_client_for_user(user, code) -> Client:
    return get_object_or_404(
        Client.objects.visible_to(user).select_related("customer", "customer__parent"),
        code=code,
    )
