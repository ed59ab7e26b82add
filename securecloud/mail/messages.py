"""The message of a customer delivery, by its kind: the welcome email or a report."""

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from securecloud.mail import reports
from securecloud.mail.models import EmailDelivery
from securecloud.mail.welcome import build_welcome_message


def build_message(delivery: EmailDelivery, *, site_url: str = "") -> EmailMultiAlternatives:
    """The message of a customer delivery as it would be sent now (recipient refreshed).

    Raises ValueError for a delivery it cannot build (a summary, a customer without a
    contact email); the template engine's errors pass through.
    """
    customer = delivery.customer
    if customer is None:
        raise ValueError("Summaries are built by the report run, not here.")
    if not customer.contact_email:
        raise ValueError("The customer has no contact email.")
    delivery.recipient = customer.contact_email
    if delivery.kind == EmailDelivery.Kind.WELCOME:
        return build_welcome_message(customer, delivery.recipient, site_url=site_url)
    period = reports.period_of_kind(delivery.kind)
    report = reports.customer_report(customer, period, timezone.now())
    return reports.report_message(report, delivery.recipient, site_url=site_url)
