"""One reseller's brand never shows to another tenant. Alpha Backup sells as Alphacloud,
Bravo Storage as Bravonet: every page each one's admins (and a customer user, and a
sub-reseller's admin) reach by every link and GET form, and every email each reseller's
customers and admins get (welcome, set-password link, invitation, password reset,
backup report, reseller summary), is checked for the other brand."""

import re
from collections import deque
from email.utils import parseaddr
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from hierarchy import memberships
from securecloud.accounts import invitations
from securecloud.accounts.password_reset import send_reset_links
from securecloud.mail import emails
from tests.branding.conftest import ALPHA, BRAVO
from tests.conftest import PASSWORD

MAX_PAGES = 150
LINK = re.compile(r'(?:href|hx-get|src)="([^"#]*)"')
GET_FORM = re.compile(r'<form\b(?=[^>]*\baction="([^"]*)")(?![^>]*\bmethod="post")[^>]*>', re.I)


def brand_words(brand: dict, reseller) -> set[str]:
    """What gives a brand away: its names, contact, host, colour and its files' address."""
    return {
        brand["product_name"],
        brand["sender_name"],
        brand["support_email"],
        brand["support_url"],
        brand["console_host"],
        brand["primary_colour"],
        str(reseller.code),
    }


def _links(html: str) -> set[str]:
    urls = set()
    for raw in set(LINK.findall(html)) | set(GET_FORM.findall(html)):
        parts = urlsplit(unescape(raw))
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        # The admin API's documentation is the product's own page (not branded, and
        # the same for every tenant): its JSON and HTML are not the console's pages.
        if parts.path.startswith(("/static/", "/logout", "/admin/", "/api/")):
            continue
        urls.add(unescape(raw))
    return urls


def crawl(http, start: str) -> dict[str, str]:
    """Every page reached from `start` (GET only), with what it answered."""
    seen: dict[str, str] = {}
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        answer = http.get(url, follow=True)
        assert answer.status_code < 500, url
        body = (b"".join(answer.streaming_content) if answer.streaming else answer.content).decode(
            "utf-8", "replace"
        )
        seen[url] = body
        if answer.get("Content-Type", "").startswith("text/html"):
            queue.extend(_links(body) - set(seen))
    return seen


@pytest.fixture
def two_brands(alpha_brand, bravo_brand, reseller_a, reseller_b):
    return {
        "alpha": brand_words(ALPHA, reseller_a),
        "bravo": brand_words(BRAVO, reseller_b),
    }


@pytest.fixture
def everyone(
    alice, bob, sam, customer_a1, client_a1, customer_a_east, customer_b1, client_b1, root
):
    carol = memberships.add_customer_user(
        customer_a1, username="carol", password=PASSWORD, acting_user=None, origin="t"
    ).user
    return {"alice": alice, "bob": bob, "sam": sam, "carol": carol}


@pytest.mark.parametrize(
    "who, own, other",
    [
        ("alice", "alpha", "bravo"),
        ("sam", "alpha", "bravo"),
        ("carol", "alpha", "bravo"),
        ("bob", "bravo", "alpha"),
    ],
)
def test_no_page_shows_another_tenants_brand(client, two_brands, everyone, who, own, other):
    client.force_login(everyone[who])
    pages = crawl(client, reverse("console-home"))
    assert len(pages) > 5
    leaks = [
        (url, word) for url, html in pages.items() for word in two_brands[other] if word in html
    ]
    assert leaks == []
    # Not vacuous: the own brand shows (its product name on every HTML page).
    own_name = (ALPHA if own == "alpha" else BRAVO)["product_name"]
    html_pages = [html for html in pages.values() if "<html" in html]
    assert html_pages and all(own_name in html for html in html_pages)


def _texts(message) -> str:
    parts = [message.subject, message.from_email, message.body]
    parts += [content for content, _type in getattr(message, "alternatives", [])]
    return "\n".join(parts)


def send_every_email(customer, reseller, admin, client_of_customer):
    """Each kind of email the product sends about this reseller's tenant."""
    emails.queue_welcome_email(customer, acting_user=None, origin="test")
    emails.send_set_password_email(admin, acting_user=None, origin="test")
    sent = invitations.invite_admin(
        reseller,
        email=f"new-admin@{reseller.pk}.example",
        role="technician",
        acting_user=None,
        origin="test",
    )
    emails.send_invitation_email(
        reseller, email=sent.invitation.email, role_label="Technician", path="/invitation/x/"
    )
    send_reset_links(admin.email)


@pytest.mark.parametrize("own, other", [("alpha", "bravo"), ("bravo", "alpha")])
def test_no_email_shows_another_tenants_brand(
    two_brands,
    everyone,
    customer_a1,
    customer_b1,
    client_a1,
    client_b1,
    reseller_a,
    reseller_b,
    mailoutbox,
    own,
    other,
    settings,
):
    settings.SITE_URL = "https://console.example"
    customer_b1.email_reports = True
    customer_b1.save(update_fields=["email_reports"])
    if own == "alpha":
        send_every_email(customer_a1, reseller_a, everyone["alice"], client_a1)
        recipients = {"it@acme.example", "alice@alpha.example"}
    else:
        send_every_email(customer_b1, reseller_b, everyone["bob"], client_b1)
        recipients = {"it@bolt.example", "bob@bravo.example"}
    call_command("send_backup_reports", stdout=open("/dev/null", "w"))
    own_brand = ALPHA if own == "alpha" else BRAVO
    checked = 0
    for message in mail.outbox:
        if not set(message.to) & recipients and not message.to[0].endswith(
            f"{(reseller_a if own == 'alpha' else reseller_b).pk}.example"
        ):
            continue
        text = _texts(message)
        assert [w for w in two_brands[other] if w in text] == [], message.subject
        assert own_brand["product_name"] in text, message.subject
        assert parseaddr(message.from_email)[0] == own_brand["sender_name"], message.subject
        checked += 1
    # Welcome, set-password, invitation, reset, report and summary.
    assert checked >= 6, [m.subject for m in mail.outbox]
