"""The Branding page (Reseller Admin → Branding): only an Administrator opens and saves
it, another tenant's reseller is a 404, every save is audited, the page says what is
inherited and from where, and the brand then shows on the console's pages."""

import re

import pytest
from django.urls import reverse

from hierarchy import memberships
from hierarchy.models import AuditEvent
from securecloud.branding.models import Branding
from tests.branding.conftest import ALPHA, png
from tests.conftest import PASSWORD


def _form(**changes):
    return {**{name: "" for name in ALPHA}, **changes}


def test_the_menu_leads_an_administrator_to_its_resellers_branding(alice_client, reseller_a):
    home = alice_client.get("/")
    assert reverse("branding-home").encode() in home.content
    response = alice_client.get(reverse("branding-home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reseller-branding", args=[reseller_a.code])
    page = alice_client.get(response["Location"])
    assert page.status_code == 200
    assert b"Branding of Alpha Backup" in page.content


def test_saving_sets_the_brand_and_records_it(alice_client, alice, reseller_a):
    url = reverse("reseller-branding", args=[reseller_a.code])
    response = alice_client.post(url, _form(**{**ALPHA, "console_host": ""}))
    assert response.status_code == 302
    row = Branding.objects.get(reseller=reseller_a)
    assert row.product_name == "Alphacloud" and row.primary_colour == "#1d4ed8"
    event = AuditEvent.objects.get(action="branding.update")
    assert event.actor == alice and event.origin.startswith("console ")
    page = alice_client.get("/")
    assert re.search(rb"<title>[^<]*Alphacloud Console</title>", page.content)
    assert b'class="navbar-brand' in page.content and b"Alphacloud Console</a>" in page.content
    assert b"brand-navbar" in page.content
    assert b"help@alphacloud.example" in page.content  # the footer's support contact


def test_a_refused_colour_says_why_and_changes_nothing(alice_client, reseller_a):
    url = reverse("reseller-branding", args=[reseller_a.code])
    response = alice_client.post(url, _form(product_name="Alphacloud", primary_colour="#ffee00"))
    assert response.status_code == 200
    assert b"too light" in response.content and b"4.5:1" in response.content
    assert not Branding.objects.filter(reseller=reseller_a).exists()
    assert not AuditEvent.objects.filter(action="branding.update").exists()


def test_the_page_says_what_a_sub_reseller_inherits_and_from_where(
    client, alpha_brand, sub_reseller_a, sam
):
    client.force_login(sam)
    page = client.get(reverse("reseller-branding", args=[sub_reseller_a.code])).content.decode()
    assert "inherited from Alpha Backup" in page
    assert "Blank: inherits Alphacloud from Alpha Backup." in page
    client.post(
        reverse("reseller-branding", args=[sub_reseller_a.code]),
        _form(product_name="East Cloud"),
    )
    page = client.get(reverse("reseller-branding", args=[sub_reseller_a.code])).content.decode()
    assert "this reseller" in page and "East Cloud" in page
    # The admins of Alpha East now see their own product name, the rest inherited.
    home = client.get("/").content.decode()
    assert "East Cloud Console" in home and "help@alphacloud.example" in home


@pytest.mark.parametrize("role", ["technician", "read_only", "billing"])
def test_only_an_administrator_may_open_or_save_it(client, reseller_a, role):
    other = memberships.add_reseller_admin(
        reseller_a, username=f"{role}-x", password=PASSWORD, role=role, acting_user=None, origin="t"
    ).user
    client.force_login(other)
    url = reverse("reseller-branding", args=[reseller_a.code])
    assert client.get(url).status_code == 403
    assert client.post(url, _form(product_name="Hijacked")).status_code == 403
    assert client.get(reverse("branding-home")).status_code == 403
    assert reverse("branding-home").encode() not in client.get("/").content
    assert not Branding.objects.exists()


def test_a_customer_user_may_not_brand(client, customer_a1, reseller_a):
    carol = memberships.add_customer_user(
        customer_a1, username="carol", password=PASSWORD, acting_user=None, origin="t"
    ).user
    client.force_login(carol)
    assert client.get(reverse("branding-home")).status_code == 403
    assert client.get(reverse("reseller-branding", args=[reseller_a.code])).status_code == 404


def test_another_tenants_reseller_is_a_404(alice_client, reseller_b):
    url = reverse("reseller-branding", args=[reseller_b.code])
    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url, _form(product_name="Hijacked")).status_code == 404
    assert not Branding.objects.exists()


def test_the_superuser_brands_any_reseller_from_its_pane(root_client, reseller_b):
    pane = root_client.get(reverse("reseller-pane", args=[reseller_b.code]))
    url = reverse("reseller-branding", args=[reseller_b.code])
    assert url.encode() in pane.content
    assert root_client.post(url, _form(product_name="Bravonet")).status_code == 302
    assert Branding.objects.get(reseller=reseller_b).product_name == "Bravonet"


def test_a_logo_uploads_and_shows_in_the_navbar(alice_client, reseller_a):
    url = reverse("reseller-branding", args=[reseller_a.code])
    upload = _upload("logo.png", png(), "image/png")
    assert alice_client.post(url, {**_form(), "logo": upload}).status_code == 302
    row = Branding.objects.get(reseller=reseller_a)
    assert row.logo_type == "image/png"
    home = alice_client.get("/").content.decode()
    assert reverse("branding-logo", args=[reseller_a.code]) in home
    # Removing it goes back to the inherited logo (none here).
    alice_client.post(url, {**_form(), "remove_logo": "on"})
    row.refresh_from_db()
    assert row.logo == ""


def test_an_address_the_server_does_not_answer_for_is_pointed_out(
    alice_client, reseller_a, settings
):
    settings.ALLOWED_HOSTS = ["testserver"]
    url = reverse("reseller-branding", args=[reseller_a.code])
    alice_client.post(url, _form(console_host="backup.alphacloud.example"))
    page = alice_client.get(url).content.decode()
    assert "does not answer for it yet" in page and "ALLOWED_HOSTS" in page
    settings.ALLOWED_HOSTS = ["testserver", ".alphacloud.example"]
    assert "does not answer for it yet" not in alice_client.get(url).content.decode()


def _upload(name, data, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)
