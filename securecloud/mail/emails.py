"""The emails the console asks for: the welcome email, a retry of a failed customer
email, an admin's set-password link, and what the customer pane shows of them.

Every email the console sends is first recorded as an `EmailDelivery` (queued), then
sent, and the record ends as sent (with its time) or failed (with the reason); see
`securecloud.mail.delivery`. Sending never raises to the caller: a mail server that is
down shows up as a failed delivery in the customer pane, with a Retry button, and the
customer stays as it was.

The welcome email goes through the Tasks framework (`securecloud.mail.tasks`), so a slow mail
server never holds up a page: immediate in development and tests, a database queue
and `manage.py db_worker` in production (TASKS_BACKEND=database), or Celery workers on a
broker (TASKS_BACKEND=celery, securecloud.broker). With the database queue the task row is
written in the same transaction as the delivery record; Celery publishes once it commits.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from hierarchy import audit
from hierarchy.actors import login_of
from hierarchy.models import Node
from securecloud import site
from securecloud.mail.delivery import error_text, mark_failed
from securecloud.mail.models import EmailDelivery
from securecloud.mail.tasks import send_email_delivery
from securecloud.mail.welcome import invitation_message, set_password_message, welcome_subject

logger = logging.getLogger(__name__)

# A welcome email still queued after this long is taken as lost (a worker died), so a
# new one may be requested; before that a second click would send it twice.
QUEUED_WELCOME_GRACE = timedelta(minutes=15)
FAILED_REPORTS_SHOWN = timedelta(days=8)


def _enqueue(delivery: EmailDelivery, site_url: str = "") -> EmailDelivery:
    """Hand the delivery to the task queue; a queue that refuses it fails the delivery."""
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
    return login_of(user)


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
    membership = user.membership
    message = set_password_message(user, membership.reseller, site_url=site_url)
    try:
        message.send()
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


def send_invitation_email(
    reseller: Node,
    *,
    email: str,
    role_label: str,
    path: str,
    invited_by: str = "",
    site_url: str = "",
) -> str | None:
    """Email an invitation (the link: SITE_URL, or the request's address, + `path`).

    Returns None when the email went out, else why it did not; never raises (the
    invitation stays, to be resent)."""
    link = (site_url or site.site_url()) + path
    message = invitation_message(
        reseller, email=email, role_label=role_label, link=link, invited_by=invited_by
    )
    try:
        message.send()
    except Exception as exc:  # any failure of the mail server
        logger.warning("Invitation email to %s failed: %s", email, exc)
        return error_text(exc)
    return None
