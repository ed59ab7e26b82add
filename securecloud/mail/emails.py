"""Emails to customers: the welcome email and the delivery ledger they share with reports.

Every email the console sends is first recorded as an `EmailDelivery` (queued), then
sent, and the record ends as sent (with its time) or failed (with the reason). Sending
never raises to the caller: a mail server that is down shows up as a failed delivery in
the customer pane, with a Retry button, and the customer stays as it was.

The welcome email goes through the Tasks framework (`securecloud.mail.tasks`), so a slow mail
server never holds up a page: immediate in development and tests, a database queue
and `manage.py db_worker` in production (TASKS_BACKEND=database). With the database
queue the task row is written in the same transaction as the delivery record.
"""

import logging
import smtplib
from datetime import timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from hierarchy import audit
from hierarchy.models import EmailDelivery, Node
from hierarchy.validators import without_address_characters
from securecloud import site

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
# A welcome email still queued after this long is taken as lost (a worker died), so a
# new one may be requested; before that a second click would send it twice.
QUEUED_WELCOME_GRACE = timedelta(minutes=15)
FAILED_REPORTS_SHOWN = timedelta(days=8)


def from_address(sender_name: str = "") -> str:
    """`"<sender name>" <address of DEFAULT_FROM_EMAIL>`, or DEFAULT_FROM_EMAIL as it is.

    Mail programs show the sender name, quoted or not, as it is: one that holds an
    address would pass for that address. Reseller names refuse <, > and @; names from
    before that rule lose them here.
    """
    sender_name = without_address_characters(sender_name or "")
    if not sender_name:
        return settings.DEFAULT_FROM_EMAIL
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return formataddr((sender_name, address))


def welcome_subject(customer: Node) -> str:
    return f"Welcome to SecureCloud backup, {customer.name}"


def welcome_context(customer: Node, *, site_url: str = "") -> dict:
    """`site_url`: the address of the request that sends the email, if one does."""
    return {
        "customer": customer,
        "reseller": customer.parent,
        "site_url": site_url or site.site_url(),
        # The key lets machines join this customer on their own: only while that is on.
        "registration_key": customer.registration_key if customer.auto_add_clients else "",
    }


def build_welcome_message(
    customer: Node, recipient: str, *, site_url: str = ""
) -> EmailMultiAlternatives:
    context = welcome_context(customer, site_url=site_url)
    message = EmailMultiAlternatives(
        subject=welcome_subject(customer),
        body=render_to_string("email/welcome.txt", context),
        from_email=from_address(customer.parent.name if customer.parent else ""),
        to=[recipient],
    )
    message.attach_alternative(render_to_string("email/welcome.html", context), "text/html")
    return message


def build_message(delivery: EmailDelivery, *, site_url: str = "") -> EmailMultiAlternatives:
    """The message of a customer delivery as it would be sent now (recipient refreshed)."""
    customer = delivery.customer
    if customer is None:
        raise ValueError("Summaries are built by the report run, not here.")
    if not customer.contact_email:
        raise ValueError("The customer has no contact email.")
    delivery.recipient = customer.contact_email
    if delivery.kind == EmailDelivery.Kind.WELCOME:
        return build_welcome_message(customer, delivery.recipient, site_url=site_url)
    from securecloud.mail import reports

    period = reports.period_of_kind(delivery.kind)
    report = reports.customer_report(customer, period, timezone.now())
    return reports.report_message(report, delivery.recipient, site_url=site_url)


# What went wrong, in the admin's words; the mail library's own text follows in brackets
# for whoever looks after the mail server. The SMTP errors are OSErrors too: first match.
_FAILURES = (
    (smtplib.SMTPRecipientsRefused, "The mail server refused the recipient's address"),
    (smtplib.SMTPSenderRefused, "The mail server refused the sender's address"),
    (smtplib.SMTPAuthenticationError, "The mail server refused the console's sign-in"),
    (smtplib.SMTPServerDisconnected, "The mail server closed the connection"),
    (smtplib.SMTPException, "The mail server refused the email"),
    (OSError, "The mail server could not be reached"),
)


def error_text(exc: BaseException) -> str:
    detail = str(exc).strip()
    detail = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    summary = next(
        (words for kind, words in _FAILURES if isinstance(exc, kind)), "The email was not sent"
    )
    return f"{summary} ({detail})"[:MAX_ERROR_LENGTH]


def mark_failed(delivery: EmailDelivery, error: str, *, attempted: bool = True) -> None:
    now = timezone.now()
    delivery.status = EmailDelivery.Status.FAILED
    delivery.error = error[:MAX_ERROR_LENGTH]
    delivery.updated_at = now
    fields = ["status", "error", "updated_at", "recipient"]
    if attempted:
        delivery.attempts += 1
        fields.append("attempts")
    delivery.save(update_fields=fields)


def deliver(delivery: EmailDelivery, *, message=None, connection=None, site_url: str = "") -> bool:
    """Send one delivery now and record the outcome; never raises. True when sent.

    `message` is built from the delivery when not given; `connection` lets a batch
    share one connection to the mail server; `site_url` is the address of the request
    that asked for the email, when one did.
    """
    try:
        if message is None:
            message = build_message(delivery, site_url=site_url)
        else:
            delivery.recipient = message.to[0]
        delivery.subject = str(message.subject)[:255]
        if connection is not None:
            message.connection = connection
        message.send()
    except Exception as exc:  # any failure of the mail server or of the content
        logger.warning("Email %s to %s failed: %s", delivery.kind, delivery.recipient, exc)
        mark_failed(delivery, error_text(exc))
        return False
    now = timezone.now()
    delivery.status = EmailDelivery.Status.SENT
    delivery.error = ""
    delivery.sent_at = now
    delivery.updated_at = now
    delivery.attempts += 1
    delivery.save(
        update_fields=[
            "status",
            "error",
            "sent_at",
            "updated_at",
            "attempts",
            "recipient",
            "subject",
        ]
    )
    return True


def _enqueue(delivery: EmailDelivery, site_url: str = "") -> EmailDelivery:
    """Hand the delivery to the task queue; a queue that refuses it fails the delivery."""
    from securecloud.mail.tasks import send_email_delivery

    try:
        # The worker reads SITE_URL itself: only a request's own address travels along.
        if site_url and site_url != site.site_url():
            send_email_delivery.enqueue(delivery.pk, site_url=site_url)
        else:
            send_email_delivery.enqueue(delivery.pk)
    except Exception as exc:
        logger.exception("Could not queue email delivery %s", delivery.pk)
        mark_failed(delivery, f"Could not queue the email: {error_text(exc)}", attempted=False)
    delivery.refresh_from_db()
    return delivery


def _user_or_none(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def queue_welcome_email(
    customer: Node,
    *,
    acting_user,
    origin: str,
    first_only: bool = False,
    site_url: str = "",
) -> EmailDelivery:
    """Record a welcome email to the customer's contact address and queue it.

    Returns the delivery (already sent or failed with the immediate backend, queued with
    the database queue). Raises ValidationError only for what the admin can fix: no
    contact email, a welcome email already on its way, or (`first_only`, the Send step
    right after Add New Customer) one already sent: sending again is Resend's job.
    """
    if not customer.is_customer:
        raise ValidationError("Only a customer receives a welcome email.", code="not_customer")
    if not customer.contact_email:
        raise ValidationError(
            "No welcome email sent: the customer has no contact email.", code="no_contact_email"
        )
    with transaction.atomic():
        # One at a time per customer: a double click or two admins cannot both pass the
        # checks below.
        Node.objects.select_for_update().filter(pk=customer.pk).first()
        welcomes = EmailDelivery.objects.filter(customer=customer, kind=EmailDelivery.Kind.WELCOME)
        pending = welcomes.filter(
            status=EmailDelivery.Status.QUEUED,
            updated_at__gte=timezone.now() - QUEUED_WELCOME_GRACE,
        )
        if pending.exists():
            raise ValidationError(
                "A welcome email to this customer is already on its way.", code="already_queued"
            )
        sent = welcomes.filter(status=EmailDelivery.Status.SENT).order_by("-sent_at").first()
        if first_only and sent is not None:
            raise ValidationError(
                f"A welcome email already went to {sent.recipient} on "
                f"{sent.sent_at:%Y-%m-%d}; use Resend in the customer's pane to send another.",
                code="already_sent",
            )
        delivery = EmailDelivery.objects.create(
            customer=customer,
            kind=EmailDelivery.Kind.WELCOME,
            recipient=customer.contact_email,
            subject=welcome_subject(customer),
            requested_by=_user_or_none(acting_user),
        )
        audit.record(
            "customer.welcome_email_queued",
            customer,
            acting_user=acting_user,
            origin=origin,
            changes={"recipient": [None, customer.contact_email]},
        )
    return _enqueue(delivery, site_url)


def retry_email(
    delivery: EmailDelivery, *, acting_user, origin: str, site_url: str = ""
) -> EmailDelivery:
    """Queue a failed customer email again (the same record: its attempts go up).

    A report is sent again as it reads now, under its original period, so it still
    counts as that period's report.
    """
    if delivery.customer_id is None:
        raise ValidationError(
            "A reseller summary is retried by the next report run.", code="not_retryable"
        )
    if delivery.status != EmailDelivery.Status.FAILED:
        raise ValidationError("Only a failed email can be retried.", code="not_failed")
    if delivery.is_report and not delivery.customer.email_reports:  # type: ignore[union-attr]
        raise ValidationError(
            "Email reports are off for this customer: turn them on to send reports.",
            code="reports_off",
        )
    with transaction.atomic():
        claimed = EmailDelivery.objects.filter(
            pk=delivery.pk, status=EmailDelivery.Status.FAILED
        ).update(status=EmailDelivery.Status.QUEUED, error="", updated_at=timezone.now())
        if not claimed:
            raise ValidationError("This email is already being retried.", code="not_failed")
        delivery.refresh_from_db()
        audit.record(
            "customer.email_retried",
            delivery.customer,
            acting_user=acting_user,
            origin=origin,
            changes={
                "email": [None, delivery.get_kind_display()],
                "period": [None, delivery.period_key],
            },
        )
    return _enqueue(delivery, site_url)


def customer_email_context(customer: Node) -> dict:
    """What `hierarchy/_customer_emails.html` shows, in one query: the latest welcome
    email and the report deliveries of the last week that are failed now (a failed
    report of the current period is also retried by the next report run)."""
    latest_welcome = (
        EmailDelivery.objects.filter(customer=customer, kind=EmailDelivery.Kind.WELCOME)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    rows = list(
        EmailDelivery.objects.filter(
            Q(pk=Subquery(latest_welcome))
            | Q(
                customer=customer,
                kind__in=EmailDelivery.REPORT_KINDS,
                status=EmailDelivery.Status.FAILED,
                created_at__gte=timezone.now() - FAILED_REPORTS_SHOWN,
            )
        ).order_by("-created_at", "-pk")[:11]
    )
    welcome = next((row for row in rows if row.kind == EmailDelivery.Kind.WELCOME), None)
    failed_reports = [row for row in rows if row.kind != EmailDelivery.Kind.WELCOME][:10]
    return {"welcome_email": welcome, "failed_reports": failed_reports}


def send_set_password_email(user, *, acting_user, origin: str, site_url: str = "") -> str | None:
    """Email an admin a link to choose a password (Django's password-reset token, which
    works once and expires after PASSWORD_RESET_TIMEOUT). The link is built from
    SITE_URL (securecloud.site), never from the request's Host header in production.

    Returns None when the email went out, else why it did not; never raises, so that a
    mail server that is down cannot undo or break the page that asked for it.
    """
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    membership = user.membership
    reseller = membership.reseller
    link = (site_url or site.site_url()) + path
    context = {"user": user, "reseller": reseller, "link": link}
    try:
        EmailMultiAlternatives(
            subject=f"Your SecureCloud Console login for {reseller.name}",
            body=render_to_string("email/set_password.txt", context),
            from_email=from_address(reseller.name),
            to=[user.email],
        ).send()
    except Exception as exc:  # any failure of the mail server
        logger.warning("Set-password email to %s failed: %s", user.email, exc)
        return error_text(exc)
    with transaction.atomic():
        audit.record(
            "admin.set_password_link_sent",
            membership,
            acting_user=acting_user,
            origin=origin,
            changes={"email": [None, user.email]},
        )
    return None
