"""Background tasks (django-tasks): emails that must not hold up a page."""

from django.db import transaction
from django_tasks import task

from hierarchy import audit
from securecloud.mail.delivery import deliver, fail
from securecloud.mail.messages import build_message
from securecloud.mail.models import EmailDelivery


def send_now(delivery: EmailDelivery, *, site_url: str = "") -> bool:
    """Build the delivery's message as it reads now and send it; never raises. True when
    sent; a message that cannot be built fails the delivery like a refused one."""
    try:
        message = build_message(delivery, site_url=site_url)
    except Exception as exc:  # the content (no contact email, a template error)
        fail(delivery, exc)
        return False
    return deliver(delivery, message)


@task()
def send_email_delivery(delivery_id: int, site_url: str = "") -> str:
    """Send one queued customer email and record sent or failed; never raises.

    Returns the delivery's final status ("missing" when the record is gone, e.g. its
    customer was deleted meanwhile). `site_url` is the address of the request that
    queued it, when the console has no SITE_URL (a development run).
    """
    delivery = (
        EmailDelivery.objects.select_related("customer", "customer__parent")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "missing"
    if delivery.status == EmailDelivery.Status.SENT:
        return delivery.status  # a queue that runs a task twice sends once
    sent = send_now(delivery, site_url=site_url)
    if delivery.kind == EmailDelivery.Kind.WELCOME:
        with transaction.atomic():
            audit.record(
                "customer.welcome_email_sent" if sent else "customer.welcome_email_failed",
                delivery.customer,
                acting_user=None,
                origin="task send_email_delivery",
                changes={"recipient": [None, delivery.recipient]}
                if sent
                else {"error": [None, delivery.error[:300]]},
            )
    return delivery.status
