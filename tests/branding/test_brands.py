"""The brand in force: a sub-reseller inherits setting by setting, the customer users
and customers of a reseller get its brand, the service validates each value (the colour
keeps WCAG AA contrast), records every change, and replaces logo files cleanly."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from hierarchy.models import AuditEvent
from securecloud.branding import logos, services
from securecloud.branding.brands import brand_for, brand_for_host
from securecloud.branding.colours import contrast
from tests.branding.conftest import ALPHA, png


def test_without_branding_the_product_is_securecloud(customer_a1):
    brand = brand_for(customer_a1)
    assert brand.product_name == "SecureCloud"
    assert brand.console_name == "SecureCloud Console"
    assert brand.is_default and not brand.stylesheet_path and not brand.logo_path


def test_a_sub_reseller_inherits_setting_by_setting(
    alpha_brand, reseller_a, sub_reseller_a, customer_a_east, django_assert_num_queries
):
    services.set_branding(
        sub_reseller_a, acting_user=None, origin="test", product_name="East Cloud"
    )
    with django_assert_num_queries(1):
        brand = brand_for(customer_a_east)
    assert brand.product_name == "East Cloud"
    assert brand.sources["product_name"].name == "Alpha East"
    # Everything else comes from Alpha Backup.
    assert brand.primary_colour == ALPHA["primary_colour"]
    assert brand.support_email == ALPHA["support_email"]
    assert brand.sender_name == ALPHA["sender_name"]
    assert brand.sources["primary_colour"].code == reseller_a.code
    assert brand.sources["logo"].code == reseller_a.code
    # Clearing the sub-reseller's own value inherits again.
    services.set_branding(sub_reseller_a, acting_user=None, origin="test", product_name="")
    assert brand_for(customer_a_east).product_name == "Alphacloud"


def test_the_console_address_is_not_inherited(alpha_brand, sub_reseller_a):
    assert brand_for_host("backup.alphacloud.example").product_name == "Alphacloud"
    assert brand_for_host("BACKUP.alphacloud.example:443").product_name == "Alphacloud"
    assert brand_for_host("other.example").is_default
    services.set_branding(
        sub_reseller_a,
        acting_user=None,
        origin="test",
        product_name="East Cloud",
        console_host="east.alphacloud.example",
    )
    assert brand_for_host("east.alphacloud.example").product_name == "East Cloud"


def test_two_resellers_cannot_share_a_console_address(alpha_brand, reseller_b):
    with pytest.raises(ValidationError) as refused:
        services.set_branding(
            reseller_b, acting_user=None, origin="test", console_host="backup.alphacloud.example"
        )
    assert "already uses this console address" in str(refused.value)


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("primary_colour", "#ffff00", "too light"),
        ("primary_colour", "#7fb3ff", "WCAG AA"),
        ("primary_colour", "blue", "six hexadecimal digits"),
        ("console_host", "https://backup.example.com/", "host name"),
        ("console_host", "10.0.0.1", "host name"),
        ("console_host", "localhost", "host name"),
        ("sender_name", "Support <evil@example.com>", "<, > or @"),
        ("support_email", "not-an-address", "valid email"),
        ("support_url", "javascript:alert(1)", "https://"),
        ("product_name", "Alpha\u202eduolc", "invisible"),
        ("product_name", "x" * 61, "at most 60"),
    ],
)
def test_bad_values_are_refused_with_a_reason(reseller_a, setting, value, message):
    with pytest.raises(ValidationError) as refused:
        services.set_branding(reseller_a, acting_user=None, origin="test", **{setting: value})
    assert message in " ".join(refused.value.messages)
    assert not AuditEvent.objects.filter(action="branding.update").exists()


def test_an_accepted_colour_keeps_white_text_readable(reseller_a):
    services.set_branding(reseller_a, acting_user=None, origin="test", primary_colour="#1D4ED8")
    colour = brand_for(reseller_a).primary_colour
    assert colour == "#1d4ed8"
    assert contrast(colour, "#ffffff") >= 4.5


def test_each_change_is_audited_with_what_changed(reseller_a, alice):
    services.set_branding(
        reseller_a, acting_user=alice, origin="console 203.0.113.5", product_name="Alphacloud"
    )
    event = AuditEvent.objects.get(action="branding.update")
    assert event.actor == alice
    assert event.origin == "console 203.0.113.5"
    assert event.reseller == reseller_a
    assert event.changes == {"product_name": ["", "Alphacloud"]}
    # Saving the same values again changes nothing and records nothing.
    services.set_branding(
        reseller_a, acting_user=alice, origin="console 203.0.113.5", product_name="Alphacloud"
    )
    assert AuditEvent.objects.filter(action="branding.update").count() == 1


def test_a_new_logo_replaces_the_old_file_once_committed(
    reseller_a, django_capture_on_commit_callbacks
):
    first = services.set_branding(
        reseller_a, acting_user=None, origin="test", logo=logos.clean_logo(png(colour=(1, 1, 1)))
    )
    old = first.logo
    assert default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.set_branding(
            reseller_a,
            acting_user=None,
            origin="test",
            logo=logos.clean_logo(png(colour=(2, 2, 2))),
        )
        assert default_storage.exists(old)  # until the change is committed
    assert second.logo != old
    assert default_storage.exists(second.logo)
    assert not default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=True):
        removed = services.set_branding(
            reseller_a, acting_user=None, origin="test", remove_logo=True
        )
    assert removed.logo == ""
    assert not default_storage.exists(second.logo)


def test_a_refused_change_leaves_the_logo_file_in_place(alpha_brand, reseller_a):
    with pytest.raises(ValidationError):
        services.set_branding(
            reseller_a,
            acting_user=None,
            origin="test",
            logo=logos.clean_logo(png(colour=(5, 5, 5))),
            primary_colour="#ffffff",
        )
    alpha_brand.refresh_from_db()
    assert default_storage.exists(alpha_brand.logo)
    # Only the current logo is stored: the refused one was not left behind.
    _, files = default_storage.listdir(f"branding/{reseller_a.code}")
    assert files == [alpha_brand.logo.rsplit("/", 1)[1]]


def test_customers_cannot_be_branded(customer_a1):
    with pytest.raises(ValidationError):
        services.set_branding(customer_a1, acting_user=None, origin="test", product_name="X")


def test_a_logins_brand_read_with_its_membership_is_the_brand_of_its_node(
    alpha_brand, reseller_a, sub_reseller_a, sam, alice, customer_a_east, root
):
    from django.contrib.auth import get_user_model

    from hierarchy import memberships
    from securecloud.branding.brands import DEFAULT_BRAND, brand_for_user

    services.set_branding(
        sub_reseller_a, acting_user=None, origin="test", product_name="East Cloud"
    )
    eve = memberships.add_customer_user(
        customer_a_east, username="eve", password="Eve-pass-2026", acting_user=None, origin="t"
    ).user
    users = get_user_model().objects
    for user, node in ((alice, reseller_a), (sam, sub_reseller_a), (eve, customer_a_east)):
        fresh = users.get(pk=user.pk)  # nothing cached on it: one query reads both
        assert brand_for_user(fresh) == brand_for(node), user
    assert brand_for_user(users.get(pk=sam.pk)).product_name == "East Cloud"
    assert brand_for_user(users.get(pk=root.pk)) == DEFAULT_BRAND


def test_the_brand_costs_a_page_no_query(alice_client, reseller_a, customer_a1, client_a1):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    pages = [
        reverse("reseller-pane", args=[reseller_a.code]),
        reverse("customer-pane", args=[customer_a1.code]),
        "/",
    ]

    def counts():
        result = []
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert alice_client.get(url).status_code == 200
            result.append(len(queries))
        return result

    alice_client.get("/")
    plain = counts()
    services.set_branding(
        reseller_a, acting_user=None, origin="test", **{**ALPHA, "console_host": ""}
    )
    assert counts() == plain
    assert "Alphacloud Console" in alice_client.get(pages[0]).content.decode()
