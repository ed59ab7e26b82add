"""Every write to a webhook, shared by the console's Webhooks page, the `add_webhook`
command and the admin API: create, update, delete, list, send a test. Each validates
(the URL guard: https, no internal address; known event types; a secret), runs in one
transaction and is audited. A secret is stored to sign deliveries and never shown
again."""

import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node
from securecloud.events.delivery import encode, headers_for, record
from securecloud.events.models import EVENT_TYPES, TEST_EVENT_TYPE, Webhook, WebhookDelivery
from securecloud.events.sender import post
from securecloud.events.urlguard import check_url

MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 200
RECENT_DELIVERIES = 20


def clean_event_types(event_types: Iterable[str] | None) -> list[str]:
    """Known types, in the catalogue's order; None or empty means every type."""
    wanted = [value.strip() for value in (event_types or []) if value and value.strip()]
    unknown = sorted(set(wanted) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            {
                "event_types": f"Unknown event type: {', '.join(unknown)}. Known: "
                f"{', '.join(EVENT_TYPES)}."
            }
        )
    return [value for value in EVENT_TYPES if value in wanted] if wanted else list(EVENT_TYPES)


def clean_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH or not secret.isprintable():
        raise ValidationError(
            {
                "secret": f"Enter a secret of {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} "
                "printable characters."
            }
        )
    return secret


def _clean_url(url: str) -> str:
    try:
        return check_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None


def _clean(
    *, url: str | None, secret: str | None, event_types: Iterable[str] | None
) -> dict[str, object]:
    """The cleaned values of the fields given (not None), or one ValidationError with
    the errors of each field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, object] = {}
    checks = (
        ("url", url, _clean_url),
        ("secret", secret, clean_secret),
    )
    for name, value, check in checks:
        if value is None:
            continue
        try:
            cleaned[name] = check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if event_types is not None:
        try:
            cleaned["event_types"] = clean_event_types(event_types)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _snapshot(webhook: Webhook) -> dict[str, object]:
    return {
        "url": webhook.url,
        "event_types": ", ".join(webhook.event_types),
        "enabled": webhook.enabled,
    }


def create_webhook(
    reseller: Node,
    *,
    url: str,
    secret: str,
    event_types: Iterable[str] | None = None,
    acting_user: ActingUser,
    origin: str,
) -> Webhook:
    if not reseller.is_reseller:
        raise ValidationError("Webhooks belong to a reseller.")
    cleaned = _clean(url=url, secret=secret, event_types=event_types or [])
    with transaction.atomic():
        webhook = Webhook.objects.create(reseller=reseller, **cleaned)
        audit.record(
            "webhook.created",
            webhook,
            acting_user=acting_user,
            origin=origin,
            object_type="webhook",
            changes={name: [None, value] for name, value in _snapshot(webhook).items()},
        )
    return webhook


def update_webhook(
    webhook: Webhook,
    *,
    url: str | None = None,
    secret: str | None = None,
    event_types: Iterable[str] | None = None,
    enabled: bool | None = None,
    acting_user: ActingUser,
    origin: str,
) -> Webhook:
    """Change what is given (None: keep). Switching it on again starts its count of
    failures afresh."""
    changes = _clean(url=url, secret=secret or None, event_types=event_types)
    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
        before = _snapshot(webhook)
        for name, value in changes.items():
            setattr(webhook, name, value)
        if enabled is not None and enabled != webhook.enabled:
            webhook.enabled = enabled
            webhook.disabled_at = None if enabled else timezone.now()
            webhook.consecutive_failures = 0
        webhook.save()
        diff = audit.changes_between(before, _snapshot(webhook))
        if "secret" in changes:
            diff["secret"] = ["(hidden)", "(new)"]
        if diff:
            audit.record(
                "webhook.edited",
                webhook,
                acting_user=acting_user,
                origin=origin,
                object_type="webhook",
                changes=diff,
            )
    return webhook


def delete_webhook(webhook: Webhook, *, acting_user: ActingUser, origin: str) -> None:
    with transaction.atomic():
        audit.record(
            "webhook.deleted",
            webhook,
            acting_user=acting_user,
            origin=origin,
            object_type="webhook",
            changes={name: [value, None] for name, value in _snapshot(webhook).items()},
        )
        webhook.delete()


def list_webhooks(reseller: Node) -> QuerySet[Webhook]:
    """The webhooks of `reseller` itself (those above it are their resellers' own)."""
    hooks: QuerySet[Webhook] = Webhook.objects.filter(reseller=reseller).order_by(
        "created_at", "pk"
    )
    return hooks


def recent_deliveries(webhook: Webhook, limit: int = RECENT_DELIVERIES) -> list[WebhookDelivery]:
    return list(webhook.deliveries.order_by("-created_at", "-pk")[:limit])


def send_test(webhook: Webhook, *, acting_user: ActingUser, origin: str) -> WebhookDelivery:
    """Send a `webhook.test` event now, signed like any other; one attempt, recorded
    among the deliveries (a failure counts towards switching it off, as any)."""
    now = timezone.now()
    code = uuid.uuid4()
    body = encode(
        {
            "id": str(code),
            "type": TEST_EVENT_TYPE,
            "created_at": now.isoformat(),
            "reseller": {"id": str(webhook.reseller.code), "name": webhook.reseller.name},
            "customer": None,
            "client": None,
            "data": {"message": "A test from the SecureCloud Console."},
        }
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook=webhook,
            event_code=code,
            event_type=TEST_EVENT_TYPE,
            body=body,
            attempts=1,
        )
        audit.record(
            "webhook.test_sent",
            webhook,
            acting_user=acting_user,
            origin=origin,
            object_type="webhook",
        )
    answer = post(webhook.url, body.encode(), headers_for(delivery, body.encode()))
    record(delivery, answer, now)
    return delivery
