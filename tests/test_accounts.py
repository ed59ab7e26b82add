"""Console admins change their password, or reset it by email."""

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from securecloud.accounts.models import RateLimitHit
from tests.conftest import PASSWORD


def test_an_admin_changes_her_password(alice_client):
    response = alice_client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-New-Secret-7",
            "new_password2": "Brand-New-Secret-7",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="alice").check_password("Brand-New-Secret-7")


def test_password_change_applies_the_password_validators(alice_client):
    response = alice_client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


def test_password_change_needs_sign_in(client, db):
    response = client.get("/account/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_admin_resets_a_forgotten_password_by_email(client, alice, mailoutbox, settings):
    settings.SITE_URL = "https://console.example.com"
    response = client.post("/account/reset/", {"email": "alice@alpha.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@alpha.example"]
    # The link is built from SITE_URL, not from the request's host (testserver here).
    link = re.search(r"https://console\.example\.com(/account/reset/\S+/)", mailoutbox[0].body)
    link = link.group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_url, {"new_password1": "Reset-Secret-99", "new_password2": "Reset-Secret-99"}
    )
    assert response.status_code == 302
    assert get_user_model().objects.get(username="alice").check_password("Reset-Secret-99")


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post("/account/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


# --- Reset requests: queued, limited, and answered the same every time --------------

QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _ask_reset(client, email, ip="198.51.100.7", **headers):
    response = client.post("/account/reset/", {"email": email}, REMOTE_ADDR=ip, **headers)
    assert response.status_code == 302
    return response["Location"]


def _run_queued_tasks():
    for job in DBTaskResult.objects.order_by("enqueued_at"):
        import_string(job.task_path).call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
        job.delete()


def test_a_reset_is_queued_for_any_address_and_only_a_login_gets_an_email(
    client, alice, mailoutbox, settings
):
    settings.TASKS = QUEUE
    # The page does the same work for a login's address as for any other: it queues the
    # request. Looking the address up and talking to the mail server is the worker's.
    known = _ask_reset(client, "alice@alpha.example")
    unknown = _ask_reset(client, "nobody@example.com")
    assert known == unknown == "/account/reset/sent/"
    assert mailoutbox == []
    assert DBTaskResult.objects.count() == 2
    _run_queued_tasks()
    [email] = mailoutbox
    assert email.to == ["alice@alpha.example"]
    assert "/account/reset/" in email.body


def test_one_address_gets_only_a_few_reset_emails(client, alice, bob, mailoutbox, settings):
    settings.PASSWORD_RESET_MAX_PER_EMAIL = 3
    # Asked again and again, from many addresses, in any letter case.
    answers = {
        _ask_reset(client, email, ip=f"198.51.100.{n}")
        for n, email in enumerate(["alice@alpha.example", "ALICE@alpha.example"] * 10)
    }
    assert answers == {"/account/reset/sent/"}  # a limited request reads the same
    assert len(mailoutbox) == 3
    # Other addresses are not held up by alice's.
    _ask_reset(client, "bob@bravo.example", ip="198.51.100.99")
    assert [m.to[0] for m in mailoutbox] == ["alice@alpha.example"] * 3 + ["bob@bravo.example"]


def test_one_client_address_gets_only_a_few_resets(client, alice, sam, bob, mailoutbox, settings):
    settings.PASSWORD_RESET_MAX_PER_IP = 2
    for email in ["alice@alpha.example", "sam@alpha-east.example", "bob@bravo.example"]:
        assert _ask_reset(client, email) == "/account/reset/sent/"
    assert [m.to for m in mailoutbox] == [["alice@alpha.example"], ["sam@alpha-east.example"]]
    # Another client address may still ask.
    _ask_reset(client, "bob@bravo.example", ip="203.0.113.5")
    assert mailoutbox[-1].to == ["bob@bravo.example"]


def test_an_ipv6_client_counts_as_its_64(client, alice, sam, bob, mailoutbox, settings):
    """An IPv6 host usually holds a whole /64: a new address from it is the same client."""
    settings.PASSWORD_RESET_MAX_PER_IP = 2
    for n, email in enumerate(["alice@alpha.example", "sam@alpha-east.example"]):
        _ask_reset(client, email, ip=f"2001:db8:7:1::{n + 1}")
    _ask_reset(client, "bob@bravo.example", ip="2001:db8:7:1:abcd::9")
    assert len(mailoutbox) == 2
    _ask_reset(client, "bob@bravo.example", ip="2001:db8:7:2::1")  # another /64
    assert mailoutbox[-1].to == ["bob@bravo.example"]


def test_behind_a_proxy_the_limit_counts_the_forwarded_client_address(
    client, alice, sam, bob, mailoutbox, settings
):
    settings.PASSWORD_RESET_MAX_PER_IP = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"  # every request reaches the console from the proxy
    _ask_reset(client, "alice@alpha.example", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    _ask_reset(client, "sam@alpha-east.example", ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    # A client that writes its own X-Forwarded-For entry is still counted by its address.
    _ask_reset(
        client, "bob@bravo.example", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1"
    )
    assert [m.to for m in mailoutbox] == [["alice@alpha.example"], ["sam@alpha-east.example"]]


def test_the_limit_lifts_once_its_window_has_passed(client, alice, mailoutbox, settings):
    settings.PASSWORD_RESET_MAX_PER_EMAIL = 1
    settings.PASSWORD_RESET_LIMIT_WINDOW = 900
    _ask_reset(client, "alice@alpha.example")
    _ask_reset(client, "alice@alpha.example")
    assert len(mailoutbox) == 1
    RateLimitHit.objects.update(created_at=timezone.now() - timedelta(seconds=901))
    _ask_reset(client, "alice@alpha.example")
    assert len(mailoutbox) == 2


def test_an_invalid_address_is_a_form_error(client, db, mailoutbox):
    response = client.post("/account/reset/", {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert mailoutbox == []
