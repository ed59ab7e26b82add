"""The access helper for clients (hierarchy.access has the tree's): the only way a view
reaches a client. A client outside what the user may see answers 404, like none."""

from uuid import UUID

from django.shortcuts import get_object_or_404

from clients.models import Client, PendingRequest
from hierarchy.actors import Viewer


def get_client_for_user(user: Viewer, code: UUID | str) -> Client:
    client: Client = get_object_or_404(
        Client.objects.visible_to(user).select_related("customer", "customer__parent"),
        code=code,
    )
    return client


def get_pending_request_for_user(user: Viewer, code: UUID | str) -> PendingRequest:
    """A request waiting for approval (not expired) that the user may see, else 404."""
    request: PendingRequest = get_object_or_404(
        PendingRequest.objects.visible_to(user).current().select_related("customer__parent"),
        code=code,
    )
    return request
