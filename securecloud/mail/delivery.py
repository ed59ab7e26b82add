"""Sending one email and keeping its `EmailDelivery` record: the ledger every email of the
console shares (welcome emails, customer reports, reseller summaries).

A delivery is recorded first (queued), then sent, and the record ends as sent (with its
time) or failed (with the reason). Sending never raises to the caller: a mail server that
is down shows up as a failed delivery in the customer pane, with a Retry button.

This module is the bottom of the mail app: it imports none of its siblings.
"""

import logging
import smtplib

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

# The From line lives with the brand it shows; the mail modules import it from here.
from securecloud.branding.senders import from_address as from_address
from securecloud.branding.senders import sender_of as sender_of
from securecloud.mail.models import EmailDelivery

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


# What went wrong, in the admin's words; the mail library's own text follows in brackets
# for whoever looks after the mail server. The SMTP errors are OSErrors too: first match.
_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
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


def deliver(
    delivery: EmailDelivery,
    message: EmailMessage,
    connection: BaseEmailBackend | None = None,
) -> bool:
    """Send `message` as `delivery` now and record the outcome; never raises. True when
    sent. `connection` lets a batch share one connection to the mail server."""
    try:
        delivery.recipient = message.to[0]
        delivery.subject = str(message.subject)[:255]
        if connection is not None:
            message.connection = connection
        message.send()
    except Exception as exc:  # any failure of the mail server or of the content
        fail(delivery, exc)
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


def fail(delivery: EmailDelivery, exc: BaseException) -> None:
    """Record that sending `delivery` failed with `exc` (an attempt made), and log it."""
    logger.warning("Email %s to %s failed: %s", delivery.kind, delivery.recipient, exc)
    mark_failed(delivery, error_text(exc))
