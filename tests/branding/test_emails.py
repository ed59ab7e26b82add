"""Emails carry the brand of the customer's (or admin's) reseller: product name, logo at
an absolute address under SITE_URL, support contact, and the sender name in From (the
address stays DEFAULT_FROM_EMAIL). Without a brand they read as before."""

from email.utils import parseaddr

from django.core import mail
from django.urls import reverse

from securecloud.branding import services
from securecloud.mail import emails


def test_the_welcome_email_carries_the_brand(alpha_brand, customer_a1, reseller_a, settings):
    settings.SITE_URL = "https://console.example"
    settings.DEFAULT_FROM_EMAIL = "SecureCloud <no-reply@console.example>"
    emails.queue_welcome_email(customer_a1, acting_user=None, origin="test")
    message = mail.outbox[-1]
    assert message.subject == "Welcome to Alphacloud backup, Acme"
    assert message.from_email == "Alphacloud Backup <no-reply@console.example>"
    html = message.alternatives[0][0]
    logo = "https://console.example" + reverse("branding-logo", args=[reseller_a.code])
    assert f'<img src="{logo}?v=' in html
    assert "help@alphacloud.example" in html and "help@alphacloud.example" in message.body
    assert "Install the Alphacloud backup software" in message.body
    assert "SecureCloud" not in message.body and "SecureCloud" not in html


def test_a_sub_resellers_customer_gets_the_inherited_brand(
    alpha_brand, sub_reseller_a, customer_a_east
):
    services.set_branding(sub_reseller_a, acting_user=None, origin="test", sender_name="East")
    emails.queue_welcome_email(customer_a_east, acting_user=None, origin="test")
    message = mail.outbox[-1]
    assert parseaddr(message.from_email)[0] == "East"
    assert "Alphacloud" in message.subject and "help@alphacloud.example" in message.body


def test_without_a_brand_emails_read_as_before(customer_a1):
    emails.queue_welcome_email(customer_a1, acting_user=None, origin="test")
    message = mail.outbox[-1]
    assert message.subject == "Welcome to SecureCloud backup, Acme"
    assert parseaddr(message.from_email)[0] == "Alpha Backup"
    assert "<img" not in message.alternatives[0][0]
    assert "support:" not in message.body


def test_the_set_password_email_and_the_invitation_carry_the_brand(alpha_brand, alice, reseller_a):
    emails.send_set_password_email(alice, acting_user=None, origin="test")
    link = mail.outbox[-1]
    assert link.subject == "Your Alphacloud Console login for Alpha Backup"
    assert parseaddr(link.from_email)[0] == "Alphacloud Backup"
    assert "Alphacloud Console" in link.body and "help@alphacloud.example" in link.body
    emails.send_invitation_email(
        reseller_a, email="new@alpha.example", role_label="Technician", path="/invitation/x/"
    )
    invitation = mail.outbox[-1]
    assert invitation.subject == "You are invited to the Alphacloud Console of Alpha Backup"
    assert "Alphacloud Console" in invitation.body


def test_the_password_reset_email_carries_the_login_brand(alpha_brand, alice, client):
    from securecloud.accounts.password_reset import send_reset_links

    send_reset_links("alice@alpha.example")
    message = mail.outbox[-1]
    assert message.subject == "Set your Alphacloud Console password"
    assert parseaddr(message.from_email)[0] == "Alphacloud Backup"
    assert "help@alphacloud.example" in message.body


def test_the_report_preview_shows_the_email_in_the_customers_brand(
    alice_client, alpha_brand, sub_reseller_a, customer_a_east
):
    services.set_branding(
        sub_reseller_a, acting_user=None, origin="test", product_name="East Cloud"
    )
    page = alice_client.get(reverse("email-report-preview", args=[customer_a_east.code]))
    html = page.content.decode()
    assert "through East Cloud" in html  # the email, as East Widgets gets it
    assert "Alphacloud Console</a>" in html  # the page around it: alice's own brand
