"""Console actions on a customer's emails: resend, retry, preview; login, method, tenancy."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from hierarchy import services
from securecloud.mail.emails import customer_email_context, queue_welcome_email
from securecloud.mail.models import EmailDelivery


def resend_url(customer):
    return reverse("email-welcome-resend", args=[customer.code])


def retry_url(customer, delivery):
    return reverse("email-retry", args=[customer.code, delivery.code])


def preview_url(customer, period=None):
    url = reverse("email-report-preview", args=[customer.code])
    return f"{url}?period={period}" if period else url


def test_resend_welcome_sends_and_redirects_to_the_pane(alice_client, customer_a1, mailoutbox):
    response = alice_client.post(resend_url(customer_a1), follow=True)

    assert response.redirect_chain[0] == (reverse("customer-pane", args=[customer_a1.code]), 302)
    assert [m.to for m in mailoutbox] == [["it@acme.example"]]
    delivery = EmailDelivery.objects.get()
    assert (delivery.customer, delivery.status, delivery.requested_by.username) == (
        customer_a1,
        "sent",
        "alice",
    )
    assert "Welcome email sent to it@acme.example." in response.content.decode()


def test_resend_by_a_parent_resellers_admin_of_a_sub_resellers_customer(
    alice_client, customer_a_east, mailoutbox
):
    response = alice_client.post(resend_url(customer_a_east))

    assert response.status_code == 302
    assert mailoutbox[0].to == ["it@eastwidgets.example"]


def test_resend_that_fails_says_why_and_keeps_the_customer(
    alice_client, customer_a1, mailoutbox, refuse
):
    refuse("it@acme.example")

    response = alice_client.post(resend_url(customer_a1), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "failed: The mail server refused the recipient&#x27;s address (SMTPRecipientsRefused"
        in page
    )
    assert EmailDelivery.objects.get().status == "failed"
    assert mailoutbox == []


def test_retry_view_sends_a_failed_email_again(alice_client, customer_a1, mailoutbox, refuse):
    refuse("it@acme.example")
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    refuse()

    response = alice_client.post(retry_url(customer_a1, delivery))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(mailoutbox) == 1


def test_retry_of_a_sent_email_is_refused_with_a_message(alice_client, customer_a1, mailoutbox):
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    response = alice_client.post(retry_url(customer_a1, delivery), follow=True)

    assert "Only a failed email can be retried." in response.content.decode()
    assert len(mailoutbox) == 1


def test_retry_only_of_that_customers_delivery(alice_client, customer_a1, customer_a_east, refuse):
    refuse("it@eastwidgets.example")
    other = queue_welcome_email(customer_a_east, acting_user=None, origin="test")

    # alice may see both customers, but the delivery is not Acme's.
    response = alice_client.post(retry_url(customer_a1, other))

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "failed"


def test_views_are_scoped_to_the_tenant(bob_client, customer_a1, mailoutbox, refuse):
    refuse("it@acme.example")
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    refuse()

    assert bob_client.post(resend_url(customer_a1)).status_code == 404
    assert bob_client.post(retry_url(customer_a1, delivery)).status_code == 404
    assert bob_client.get(preview_url(customer_a1)).status_code == 404
    assert mailoutbox == []
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_sub_reseller_admin_cannot_reach_the_parents_customer(client, sam, customer_a1):
    client.force_login(sam)

    assert client.post(resend_url(customer_a1)).status_code == 404
    assert client.get(preview_url(customer_a1)).status_code == 404


def test_views_need_sign_in(client, customer_a1, mailoutbox, refuse):
    refuse("it@acme.example")
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    for response in (
        client.post(resend_url(customer_a1)),
        client.post(retry_url(customer_a1, delivery)),
        client.get(preview_url(customer_a1)),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert EmailDelivery.objects.count() == 1


def test_actions_need_post(alice_client, customer_a1, refuse):
    refuse("it@acme.example")
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")

    assert alice_client.get(resend_url(customer_a1)).status_code == 405
    assert alice_client.get(retry_url(customer_a1, delivery)).status_code == 405
    assert alice_client.post(preview_url(customer_a1)).status_code == 405
    assert EmailDelivery.objects.count() == 1


def test_preview_renders_the_report_as_the_customer_sees_it(alice_client, customer_a1, client_a1):
    now = timezone.now()
    client_a1.__class__.objects.filter(pk=client_a1.pk).update(
        last_backup_at=now, last_backup_status="success", last_success_at=now, used_bytes=3 * 10**9
    )

    response = alice_client.get(preview_url(customer_a1))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Daily backup report for Acme" in page
    assert "All backups verified" in page
    assert "a1@acme.example" in page
    assert "3 GB" in page and "50 GB" in page
    assert "Alpha Backup &lt;no-reply@localhost&gt;" in page  # the From line
    assert "it@acme.example" in page
    assert "style=" not in page  # the Content-Security-Policy forbids inline styles


def test_preview_flags_a_silent_client_and_switches_to_weekly(alice_client, customer_a1, client_a1):
    response = alice_client.get(preview_url(customer_a1, "weekly"))

    page = response.content.decode()
    assert "Weekly backup report for Acme" in page
    assert "1 of 1 client needs attention" in page
    assert "Attention: Never backed up" in page
    assert "All backups verified" not in page


def test_preview_ignores_an_unknown_period(alice_client, customer_a1):
    response = alice_client.get(preview_url(customer_a1, "hourly"))

    assert response.status_code == 200
    assert "Daily backup report" in response.content.decode()


def test_partial_shows_welcome_state_and_report_failures(customer_a1, refuse, rf, alice):
    refuse("it@acme.example")
    queue_welcome_email(customer_a1, acting_user=None, origin="test")
    EmailDelivery.objects.create(
        customer=customer_a1,
        kind="report_daily",
        period_key="2026-11-27",
        recipient="it@acme.example",
        status="failed",
        error="SMTPServerDisconnected: gone",
        attempts=1,
    )
    request = rf.get("/")
    request.user = alice

    html = render_to_string(
        "hierarchy/_customer_emails.html",
        {"customer": customer_a1, **customer_email_context(customer_a1)},
        request=request,
    )

    assert "Failed" in html and "Mailbox unavailable" in html
    assert "Daily backup report 2026-11-27 failed" in html
    assert "SMTPServerDisconnected: gone" in html
    assert html.count("Retry</button>") == 2
    assert html.count('action="/customers/') == 3  # resend, retry welcome, retry report
    assert "Resend welcome email" in html
    assert reverse("email-report-preview", args=[customer_a1.code]) in html


def test_partial_shows_sent_time(customer_a1, rf, alice, mailoutbox):
    delivery = queue_welcome_email(customer_a1, acting_user=None, origin="test")
    request = rf.get("/")
    request.user = alice

    html = render_to_string(
        "hierarchy/_customer_emails.html",
        {"customer": customer_a1, **customer_email_context(customer_a1)},
        request=request,
    )

    assert "Sent to it@acme.example" in html
    assert delivery.sent_at.strftime("%Y-%m-%d") in html
    assert "Retry" not in html


def test_retry_of_a_failed_report_sends_the_report_under_its_period(
    alice_client, customer_a1, client_a1, mailoutbox
):
    delivery = EmailDelivery.objects.create(
        customer=customer_a1,
        kind="report_weekly",
        period_key="2026-W48",
        recipient="it@acme.example",
        status="failed",
        error="SMTPServerDisconnected: gone",
        attempts=1,
    )

    response = alice_client.post(retry_url(customer_a1, delivery), follow=True)

    assert "Weekly backup report sent to it@acme.example." in response.content.decode()
    [message] = mailoutbox
    assert message.subject == "Weekly backup report for Acme: 1 of 1 client needs attention"
    assert "a1@acme.example" in message.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.period_key, delivery.attempts) == ("sent", "2026-W48", 2)


def test_retry_of_a_report_is_refused_once_reports_are_off(alice_client, customer_a1, mailoutbox):
    delivery = EmailDelivery.objects.create(
        customer=customer_a1,
        kind="report_daily",
        period_key="2026-11-27",
        recipient="it@acme.example",
        status="failed",
        error="SMTPServerDisconnected: gone",
        attempts=1,
    )
    services.update_customer(customer_a1, email_reports=False, acting_user=None, origin="test")

    response = alice_client.post(retry_url(customer_a1, delivery), follow=True)

    assert "Email reports are off for this customer" in response.content.decode()
    assert mailoutbox == []
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def welcome_url(customer):
    return reverse("customer-welcome", args=[customer.code])


def test_the_send_step_sends_the_welcome_email_once(alice_client, customer_a1, mailoutbox):
    # Seed step 4. A second Send (double click, Back then Send) sends nothing more: after
    # the first, the step says the email went, and Resend is the way to send another.
    pane = reverse("customer-pane", args=[customer_a1.code])
    assert alice_client.post(welcome_url(customer_a1), {"action": "send"})["Location"] == pane
    again = alice_client.post(welcome_url(customer_a1), {"action": "send"}, follow=True)
    assert len(mailoutbox) == 1
    assert EmailDelivery.objects.filter(customer=customer_a1).count() == 1
    page = again.content.decode()
    assert "A welcome email already went to it@acme.example on" in page
    assert "use Resend in the customer&#x27;s pane to send another" in page
    step = alice_client.get(welcome_url(customer_a1)).content.decode()
    assert "A welcome email already went to <strong>it@acme.example</strong>" in step
    assert 'value="send"' not in step
    # Resend still sends another, on purpose.
    alice_client.post(resend_url(customer_a1))
    assert len(mailoutbox) == 2


def test_the_send_step_offers_send_until_one_went(alice_client, customer_a1, mailoutbox):
    step = alice_client.get(welcome_url(customer_a1)).content.decode()
    assert 'value="send"' in step and 'value="dont-send"' in step
