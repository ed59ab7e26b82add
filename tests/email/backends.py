"""A test email backend: Django's locmem backend that refuses chosen recipients."""

import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FailingBackend(LocmemBackend):
    """Raises like an SMTP server that refuses an address in `refused` (case-insensitive)."""

    refused: set[str] = set()

    def send_messages(self, messages):
        for message in messages:
            bad = [to for to in message.recipients() if to.lower() in self.refused]
            if bad:
                raise smtplib.SMTPRecipientsRefused(
                    {to: (550, b"Mailbox unavailable") for to in bad}
                )
        return super().send_messages(messages)


class UnreachableBackend(LocmemBackend):
    """A mail server that refuses every connection."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")
