"""The welcome email: content, sender, the task queue, and failed / retried sends."""

import smtplib
from email.utils import parseaddr

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hierarchy import services
from hierarchy.models import AuditEvent, Node
from securecloud.mail import reports
from securecloud.mail.delivery import error_text
from securecloud.mail.emails import (
    queue_welcome_email,
    retry_email,
    send_set_password_email,
)
from securecloud.mail.models import EmailDelivery
from securecloud.mail.tasks import send_email_delivery

SITE = "https://backup.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "SecureCloud <no-reply@securecloud.example>"


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_welcome_email_content_text_and_html(customer_a1, mailoutbox):
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    assert delivery.status == "sent"
    assert delivery.sent_at is not None
    assert delivery.attempts == 1
    [message] = mailoutbox
    assert message.to == ["it@acme.example"]
    assert message.from_email == "Alpha Backup <no-reply@securecloud.example>"
    assert "Acme" in message.subject
    html = html_of(message)
    for part in (message.body, html):
        assert "Ann Acme" in part
        assert "Alpha Backup" in part  # who the reseller is
        assert "backs up the files of your computers" in part  # what the service is
        assert "Install the SecureCloud backup software" in part
        assert "one ID per client" in part
        assert "The safest choice for an ID is the user's email address" in part
        assert SITE in part
    # Auto-authorization is off: the key is not given out.
    assert customer_a1.registration_key
    assert customer_a1.registration_key not in message.body
    assert customer_a1.registration_key not in html
    assert "registration key" not in message.body.lower()


def test_welcome_email_gives_the_key_only_with_auto_authorization(customer_a_east, mailoutbox):
    queue_welcome_email(customer_a_east, acting_user=None, origin="test")

    [message] = mailoutbox
    assert message.to == ["it@eastwidgets.example"]
    assert message.from_email == "Alpha East <no-reply@securecloud.example>"
    key = customer_a_east.registration_key
    assert key in message.body
    assert key in html_of(message)


def test_key_goes_once_auto_authorization_is_turned_off(customer_a_east, mailoutbox):
    services.set_auto_authorization(customer_a_east, False, acting_user=None, origin="test")
    customer_a_east.refresh_from_db()

    queue_welcome_email(customer_a_east, acting_user=None, origin="test")

    assert customer_a_east.registration_key not in mailoutbox[0].body


def test_sender_name_is_quoted_when_it_needs_it(reseller_a, mailoutbox):
    services.rename_reseller(reseller_a, "Alpha, Backup & Co", acting_user=None, origin="test")
    customer = services.create_customer(
        reseller_a, name="Comma", contact_email="it@comma.example", acting_user=None, origin="test"
    )

    queue_welcome_email(customer, acting_user=None, origin="test")

    assert mailoutbox[0].from_email == '"Alpha, Backup & Co" <no-reply@securecloud.example>'


@pytest.mark.parametrize(
    "name",
    [
        "Billing Dept <billing@heroware.example>",
        "Billing Dept \uff1cbilling\uff20heroware.example\uff1e",  # full-width look-alikes
    ],
)
def test_a_sender_name_never_carries_an_address(reseller_a, alice, mailoutbox, name):
    customer = services.create_customer(
        reseller_a, name="Acme", contact_email="it@acme.example", acting_user=None, origin="test"
    )
    # A name from before resellers' names refused <, > and @.
    Node.objects.filter(pk=reseller_a.pk).update(name=name)
    customer = Node.objects.get(pk=customer.pk)
    alice = type(alice).objects.get(pk=alice.pk)

    queue_welcome_email(customer, acting_user=None, origin="test")
    assert send_set_password_email(alice, acting_user=None, origin="test") is None
    report = reports.customer_report(customer, "daily", timezone.now())
    reports.report_message(report, "it@acme.example").send()

    assert len(mailoutbox) == 3
    for message in mailoutbox:
        display_name, address = parseaddr(message.from_email)
        assert address == "no-reply@securecloud.example"
        assert display_name == "Billing Dept billing heroware.example"
        assert not set("<>@\uff1c\uff1e\uff20") & set(display_name)


def test_a_sender_name_of_only_address_characters_leaves_the_default(reseller_a, mailoutbox):
    customer = services.create_customer(
        reseller_a, name="Acme", contact_email="it@acme.example", acting_user=None, origin="test"
    )
    Node.objects.filter(pk=reseller_a.pk).update(name="<@>")

    queue_welcome_email(Node.objects.get(pk=customer.pk), acting_user=None, origin="test")

    assert mailoutbox[0].from_email == "SecureCloud <no-reply@securecloud.example>"


def test_no_contact_email_is_refused_and_records_nothing(customer_a1, mailoutbox):
    # The services require a contact email; rows from before that rule may lack one.
    Node.objects.filter(pk=customer_a1.pk).update(contact_email="")
    customer = Node.objects.get(pk=customer_a1.pk)

    with pytest.raises(ValidationError, match="no contact email"):
        queue_welcome_email(customer, acting_user=None, origin="test")

    assert mailoutbox == []
    assert not EmailDelivery.objects.exists()


def test_with_a_queue_the_email_waits_for_the_worker(customer_a1, mailoutbox, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    assert delivery.status == "queued"
    assert mailoutbox == []
    # A second click while it waits does not send it twice.
    with pytest.raises(ValidationError, match="already on its way"):
        queue_welcome_email(customer_a1, acting_user=None, origin="test")

    # What the worker (manage.py db_worker) picks up and runs:
    [job] = DBTaskResult.objects.all()
    assert job.task_path == "securecloud.mail.tasks.send_email_delivery"
    assert job.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    send_email_delivery.call(*job.args_kwargs["args"])

    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert delivery.sent_at is not None
    assert delivery.attempts == 1
    assert [m.to for m in mailoutbox] == [["it@acme.example"]]
    # A queue that runs the task a second time does not send it twice.
    assert send_email_delivery.call(delivery.pk) == "sent"
    assert len(mailoutbox) == 1


def test_failing_mail_server_records_the_reason_and_retry_sends(customer_a1, mailoutbox, refuse):
    refuse("it@acme.example")

    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")  # does not raise

    assert delivery.status == "failed"
    assert "SMTPRecipientsRefused" in delivery.error
    assert "Mailbox unavailable" in delivery.error
    assert delivery.sent_at is None
    assert mailoutbox == []
    customer_a1.refresh_from_db()  # the customer stays as it was

    refuse()  # the server is back
    delivery = retry_email(delivery, acting_user=None, origin="test")

    assert delivery.status == "sent"
    assert delivery.error == ""
    assert delivery.attempts == 2
    assert EmailDelivery.objects.count() == 1
    assert [m.to for m in mailoutbox] == [["it@acme.example"]]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"customer.welcome_email_queued", "customer.email_retried"} <= actions


def test_only_a_failed_email_is_retried(customer_a1, mailoutbox):
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    with pytest.raises(ValidationError, match="Only a failed email"):
        retry_email(delivery, acting_user=None, origin="test")

    assert len(mailoutbox) == 1


def test_retry_goes_to_the_current_contact_email(customer_a1, mailoutbox, refuse):
    refuse("it@acme.example")
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    services.update_customer(
        customer_a1, contact_email="new-it@acme.example", acting_user=None, origin="test"
    )

    delivery = retry_email(delivery, acting_user=None, origin="test")

    assert delivery.status == "sent"
    assert delivery.recipient == "new-it@acme.example"
    assert mailoutbox[0].to == ["new-it@acme.example"]


def test_the_welcome_emails_outcome_is_in_the_audit_log(customer_a1, mailoutbox):
    queue_welcome_email(customer_a1, acting_user=None, origin="test")
    event = AuditEvent.objects.get(action="customer.welcome_email_sent")
    assert event.object_code == customer_a1.code
    assert event.changes == {"recipient": [None, "it@acme.example"]}


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_from_the_send_step_make_one_welcome_email(customer_a1, mailoutbox):
    import threading

    from django.db import connection

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            barrier.wait(timeout=30)
            queue_welcome_email(customer_a1, first_only=True, acting_user=None, origin="test")
            outcome = "queued"
        except ValidationError as exc:
            outcome = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) in (["already_queued", "queued"], ["already_sent", "queued"])
    assert EmailDelivery.objects.filter(customer=customer_a1).count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "failure, words",
    [
        (ConnectionRefusedError(111, "Connection refused"), "could not be reached"),
        (smtplib.SMTPAuthenticationError(535, b"bad login"), "refused the console's sign-in"),
        (smtplib.SMTPSenderRefused(553, b"no", "x@y"), "refused the sender's address"),
        (smtplib.SMTPServerDisconnected("gone"), "closed the connection"),
        (ValueError("bad header"), "The email was not sent"),
    ],
)
def test_a_failure_says_what_went_wrong_in_words_then_the_detail(failure, words):
    text = error_text(failure)
    assert words in text.split(" (")[0]
    assert f"({type(failure).__name__}" in text
