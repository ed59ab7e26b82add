"""The brand's public files and the sign-in page by console address. The colours come
from a stylesheet generated per reseller with an ETag (never inline: the CSP stays
strict); logos are served from Django's storage with their type and nosniff."""

from django.test import Client
from django.urls import reverse

from securecloud.branding import services
from tests.branding.conftest import ALPHA, BRAVO
from tests.conftest import PASSWORD


def test_the_stylesheet_carries_the_colour_with_an_etag(client, alpha_brand, reseller_a):
    url = reverse("branding-stylesheet", args=[reseller_a.code])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    css = response.content.decode()
    assert "--bs-primary: #1d4ed8" in css and ".navbar.brand-navbar" in css
    etag = response["ETag"]
    assert etag
    assert "no-cache" in response["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    # A new colour: a new ETag, and the page links a new version.
    services.set_branding(reseller_a, acting_user=None, origin="test", primary_colour="#7c2d12")
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and "#7c2d12" in changed.content.decode()
    assert changed["ETag"] != etag


def test_no_colour_no_stylesheet(client, reseller_a, customer_a1):
    services.set_branding(reseller_a, acting_user=None, origin="test", product_name="Alphacloud")
    assert client.get(reverse("branding-stylesheet", args=[reseller_a.code])).status_code == 404
    assert client.get(reverse("branding-stylesheet", args=[customer_a1.code])).status_code == 404


def test_the_logo_is_served_with_its_type_and_nosniff(client, alpha_brand, reseller_a):
    url = reverse("branding-logo", args=[reseller_a.code])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.post(url).status_code == 405


def test_a_reseller_without_a_logo_has_none(client, reseller_b):
    assert client.get(reverse("branding-logo", args=[reseller_b.code])).status_code == 404


def test_pages_link_the_stylesheet_and_keep_a_strict_policy(alice_client, alpha_brand, reseller_a):
    response = alice_client.get("/")
    page = response.content.decode()
    assert reverse("branding-stylesheet", args=[reseller_a.code]) in page
    assert "style=" not in page and "<style" not in page
    policy = response["Content-Security-Policy"]
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy


def test_the_sign_in_page_reached_through_a_console_address_shows_that_brand(
    client, alpha_brand, bravo_brand, settings
):
    settings.ALLOWED_HOSTS = ["testserver", ALPHA["console_host"], BRAVO["console_host"]]
    alpha = client.get("/login/", HTTP_HOST=ALPHA["console_host"]).content.decode()
    assert "Alphacloud Console" in alpha and "Bravonet" not in alpha
    assert "#1d4ed8" not in alpha  # the colour is in the linked stylesheet only
    bravo = client.get("/login/", HTTP_HOST=BRAVO["console_host"]).content.decode()
    assert "Bravonet Console" in bravo and "Alphacloud" not in bravo
    plain = client.get("/login/").content.decode()
    assert "SecureCloud Console" in plain
    assert "Alphacloud" not in plain and "Bravonet" not in plain


def test_a_host_outside_allowed_hosts_is_refused_whatever_the_branding(
    client, alpha_brand, settings
):
    settings.ALLOWED_HOSTS = ["testserver"]
    response = client.get("/login/", HTTP_HOST=ALPHA["console_host"])
    assert response.status_code == 400


def test_signing_in_through_a_console_address_passes_the_csrf_check(alpha_brand, alice, settings):
    """CSRF_TRUSTED_ORIGINS is not needed for a console address: the form posts back to
    the host it came from, and Django's Origin check compares with that host."""
    settings.ALLOWED_HOSTS = ["testserver", ALPHA["console_host"]]
    host = ALPHA["console_host"]
    browser = Client(enforce_csrf_checks=True)
    browser.get("/login/", HTTP_HOST=host)
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_HOST=host,
        HTTP_ORIGIN=f"http://{host}",
    )
    assert response.status_code == 302
    home = browser.get("/", HTTP_HOST=host).content.decode()
    assert "Alphacloud Console" in home
    # A form posted from another origin is still refused.
    browser.logout()
    browser.get("/login/", HTTP_HOST=host)
    forged = browser.post(
        "/login/",
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_HOST=host,
        HTTP_ORIGIN="http://evil.example",
    )
    assert forged.status_code == 403
