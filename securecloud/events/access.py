"""The access helper for webhooks: another tenant's webhook answers 404, like none."""

from uuid import UUID

from django.shortcuts import get_object_or_404

from hierarchy.actors import Viewer
from securecloud.events.models import Webhook


def get_webhook_for_user(user: Viewer, code: UUID | str) -> Webhook:
    webhook: Webhook = get_object_or_404(
        Webhook.objects.visible_to(user).select_related("reseller"), code=code
    )
    return webhook
