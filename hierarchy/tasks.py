"""Background tasks (django-tasks): emails that must not hold up a page."""

from django_tasks import task

from hierarchy.models import EmailDelivery


@task()
def send_email_delivery(delivery_id: int) -> str:
    """Send one queued customer email and record sent or failed; never raises.

    Returns the delivery's final status ("missing" when the record is gone, e.g. its
    customer was deleted meanwhile).
    """
    from hierarchy.emails import deliver

    delivery = (
        EmailDelivery.objects.select_related("customer", "customer__parent")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "missing"
    if delivery.status == EmailDelivery.Status.SENT:
        return delivery.status  # a queue that runs a task twice sends once
    deliver(delivery)
    return delivery.status
