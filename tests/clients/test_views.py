"""Console pages of client accounts: Add New Client, the client pane and its actions."""

import re
from datetime import timedelta

from django.contrib.auth.hashers import check_password
from django.urls import reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import AgentToken, Client
from hierarchy import services
from hierarchy.models import GB, Node


def text(response) -> str:
    return response.content.decode()


def add_url(customer) -> str:
    return reverse("client-add", args=[customer.code])


# --- Add New Client -------------------------------------------------------------------


def test_add_new_client_form_has_the_product_words(alice_client, customer_a1):
    page = text(alice_client.get(add_url(customer_a1)))
    assert re.search(r"<label[^>]*>\s*SecureCloud ID\s*</label>", page)
    assert re.search(r"<label[^>]*>\s*Password\s*</label>", page)
    assert "use the client&#x27;s email address" in page.lower() or "client's email address" in page
    # Acme's auto-authorization is off: the form says a password is required.
    assert "Since Auto-Authorization is turned off, you must enter a password" in page
    assert 'value="Save"' in page


def test_password_optional_when_auto_authorization_is_on(alice_client, customer_a_east):
    page = text(alice_client.get(add_url(customer_a_east)))
    assert "Since Auto-Authorization is turned off" not in page
    response = alice_client.post(add_url(customer_a_east), {"securecloud_id": "New@East.Example"})
    client = Client.objects.get(securecloud_id="new@east.example")
    assert response["Location"] == reverse("client-pane", args=[client.code])
    assert client.plan == Client.Plan.TRIAL and client.password == ""


def test_add_new_client_as_trial(alice_client, customer_a1):
    response = alice_client.post(
        add_url(customer_a1),
        {
            "securecloud_id": "bob@acme.example",
            "name": "Bob's desktop",
            "email": "bob@acme.example",
            "password": "client-pass-9",
            "password2": "client-pass-9",
        },
        follow=True,
    )
    client = Client.objects.get(securecloud_id="bob@acme.example")
    assert client.customer == customer_a1 and client.plan == "trial"
    assert check_password("client-pass-9", client.password)
    page = text(response)
    assert "Client bob@acme.example added as Trial." in page
    tree_item = re.search(rf'<a role="treeitem"[^>]*id="ti-{client.code}".*?</a>', page, re.S)
    assert tree_item and 'aria-label="Trial"' in tree_item.group(0)
    assert 'aria-selected="true"' in tree_item.group(0)


def test_password_required_when_auto_authorization_is_off(alice_client, customer_a1):
    response = alice_client.post(add_url(customer_a1), {"securecloud_id": "nopass@acme.example"})
    assert response.status_code == 200
    page = text(response)
    field = re.search(r'<div id="div_id_password".*?invalid-feedback.*?</', page, re.S)
    assert (
        field
        and "Since Auto-Authorization is turned off, you must enter a password." in field.group(0)
    )
    assert not Client.objects.filter(securecloud_id="nopass@acme.example").exists()


def test_mismatched_passwords(alice_client, customer_a1):
    response = alice_client.post(
        add_url(customer_a1),
        {
            "securecloud_id": "x@acme.example",
            "password": "client-pass-9",
            "password2": "client-pass-8",
        },
    )
    assert response.status_code == 200
    assert "The two passwords do not match." in text(response)
    assert 'value="client-pass-9"' not in text(response)  # passwords are never echoed


def test_duplicate_id_in_any_case_anywhere_is_taken_without_saying_where(
    alice_client, customer_a1, client_b1
):
    response = alice_client.post(
        add_url(customer_a1),
        {
            "securecloud_id": "  B1@Bolt.Example ",
            "password": "client-pass-9",
            "password2": "client-pass-9",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "This SecureCloud ID is already taken." in page
    assert "Bolt<" not in page and "Bravo" not in page
    assert Client.objects.filter(securecloud_id="b1@bolt.example").count() == 1


def test_invalid_id(alice_client, customer_a1):
    response = alice_client.post(
        add_url(customer_a1),
        {
            "securecloud_id": "no spaces <b>",
            "password": "client-pass-9",
            "password2": "client-pass-9",
        },
    )
    assert response.status_code == 200
    assert "Use an email address, or letters, digits" in text(response)
    assert "<b>" not in text(response).split("console-pane")[1]  # escaped


def test_add_client_is_scoped(bob_client, customer_a1):
    assert bob_client.get(add_url(customer_a1)).status_code == 404
    response = bob_client.post(
        add_url(customer_a1),
        {
            "securecloud_id": "evil@x.example",
            "password": "client-pass-9",
            "password2": "client-pass-9",
        },
    )
    assert response.status_code == 404
    assert not Client.objects.filter(securecloud_id="evil@x.example").exists()


# --- Client pane ----------------------------------------------------------------------


def test_client_pane_details(alice_client, client_a1, settings):
    settings.SITE_URL = "https://backup.alpha.example"
    now = timezone.now()
    Client.objects.filter(pk=client_a1.pk).update(
        last_seen_at=now,
        last_backup_at=now,
        last_backup_status="failed",
        used_bytes=3 * GB,
        agent_version="2.4.1",
        hostname="ann-laptop",
    )
    page = text(alice_client.get(reverse("client-pane", args=[client_a1.code])))
    for expected in [
        "a1@acme.example",
        "Ann&#x27;s laptop",
        "2.4.1",
        "ann-laptop",
        "3 GB",
        "Failed",
        "https://backup.alpha.example",
        'data-copy-target="securecloud-id"',
        "When installing SecureCloud on the client",
        "Switch to Paid",
        "days left",
    ]:
        assert expected in page, expected
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group(0)
    assert crumbs.index("Alpha Backup") < crumbs.index("Acme") < crumbs.index("a1@acme.example")


def test_client_pane_is_scoped(bob_client, client_a1):
    assert bob_client.get(reverse("client-pane", args=[client_a1.code])).status_code == 404


def test_switch_to_paid_asks_first(alice_client, client_a1):
    url = reverse("client-switch-to-paid", args=[client_a1.code])
    page = text(alice_client.get(url))
    assert "Switch a1@acme.example to Paid?" in page
    client_a1.refresh_from_db()
    assert client_a1.plan == "trial"  # GET changes nothing
    response = alice_client.post(url, follow=True)
    client_a1.refresh_from_db()
    assert client_a1.plan == "paid" and client_a1.trial_ends_at is None
    page = text(response)
    assert "switched from Trial to Paid" in page
    assert "btn-warning switch-to-paid" not in page  # no longer offered
    assert 'aria-label="Paid"' in page


def test_the_yellow_trial_badge_in_the_list_switches_to_paid_and_comes_back(
    alice_client, client_a1, customer_a1
):
    # Seed step 12: under the client's name in the right pane, the yellow icon.
    customer_url = reverse("customer-pane", args=[customer_a1.code])
    switch_url = reverse("client-switch-to-paid", args=[client_a1.code]) + "?back=customer"
    page = alice_client.get(customer_url).content.decode()
    assert f'href="{switch_url}"' in page
    assert 'aria-label="Trial: switch a1@acme.example to Paid"' in page
    confirm = alice_client.get(switch_url).content.decode()
    assert f'action="{switch_url}"' in confirm
    assert f'href="{customer_url}">Cancel' in confirm
    response = alice_client.post(switch_url)
    assert response.status_code == 302 and response["Location"] == customer_url
    client_a1.refresh_from_db()
    assert client_a1.plan == "paid"
    assert f'href="{switch_url}"' not in alice_client.get(customer_url).content.decode()


def test_the_trial_badge_comes_back_to_the_page_of_the_list(alice_client, client_a1, customer_a1):
    customer_url = reverse("customer-pane", args=[customer_a1.code])
    switch_url = reverse("client-switch-to-paid", args=[client_a1.code])
    confirm = alice_client.get(switch_url + "?back=customer&page=3").content.decode()
    assert f'action="{switch_url}?back=customer&amp;page=3"' in confirm
    assert f'href="{customer_url}?page=3">Cancel' in confirm
    response = alice_client.post(switch_url + "?back=customer&page=3")
    assert response["Location"] == f"{customer_url}?page=3"
    # Only digits: anything else is dropped, never put in an address.
    confirm = alice_client.get(switch_url + "?back=customer&page=//evil.example").content
    assert b"evil" not in confirm


def test_switch_to_paid_is_scoped(bob_client, client_a1):
    assert (
        bob_client.post(reverse("client-switch-to-paid", args=[client_a1.code])).status_code == 404
    )
    client_a1.refresh_from_db()
    assert client_a1.plan == "trial"


def test_extend_trial(alice_client, client_a1):
    before = client_a1.trial_ends_at
    response = alice_client.post(
        reverse("client-extend-trial", args=[client_a1.code]), {"days": "10"}
    )
    assert response.status_code == 302
    client_a1.refresh_from_db()
    assert client_a1.trial_ends_at - before == timedelta(days=10)


def test_extend_trial_errors_inline(alice_client, client_a1):
    response = alice_client.post(
        reverse("client-extend-trial", args=[client_a1.code]), {"days": "-3"}
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in text(response)
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    url = reverse("client-extend-trial", args=[client_a1.code])
    response = alice_client.post(url, {"days": "3"}, follow=True)
    assert "Only a trial client" in text(response)


def test_reset_password_revokes_tokens(alice_client, client_a1):
    AgentToken.objects.create(client=client_a1, digest="a" * 64)
    url = reverse("client-reset-password", args=[client_a1.code])
    response = alice_client.post(url, {"password": "new-pass-123", "password2": "new-pass-123"})
    assert response.status_code == 302
    client_a1.refresh_from_db()
    assert check_password("new-pass-123", client_a1.password)
    assert not AgentToken.objects.filter(client=client_a1).exists()


def test_reset_password_errors_inline(alice_client, client_a1):
    url = reverse("client-reset-password", args=[client_a1.code])
    response = alice_client.post(url, {"password": "short", "password2": "short"})
    assert response.status_code == 200
    assert "at least 8 characters" in text(response)
    response = alice_client.post(url, {"password": "new-pass-123", "password2": "other-pass-123"})
    assert "The two passwords do not match." in text(response)


def test_disable_and_enable(alice_client, client_a1):
    alice_client.post(reverse("client-disable", args=[client_a1.code]))
    client_a1.refresh_from_db()
    assert client_a1.status == "disabled"
    page = text(alice_client.get(reverse("client-pane", args=[client_a1.code])))
    assert 'aria-label="Disabled"' in page and ">" in page
    alice_client.post(reverse("client-enable", args=[client_a1.code]))
    client_a1.refresh_from_db()
    assert client_a1.status == "pending"


def test_edit_client(alice_client, client_a1):
    url = reverse("client-edit", args=[client_a1.code])
    assert 'value="Save"' in text(alice_client.get(url))
    alice_client.post(url, {"name": "Ann's new laptop", "email": "ann@acme.example"})
    client_a1.refresh_from_db()
    assert (client_a1.name, client_a1.email) == ("Ann's new laptop", "ann@acme.example")
    response = alice_client.post(url, {"name": "x", "email": "nope"})
    assert response.status_code == 200 and "Enter a valid email address." in text(response)


def test_move_client_within_the_subtree(
    alice_client, client_a1, customer_a1, customer_a_east, customer_b1
):
    Client.objects.filter(pk=client_a1.pk).update(used_bytes=2 * GB)
    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=2 * GB)
    url = reverse("client-move", args=[client_a1.code])
    page = text(alice_client.get(url))
    assert "East Widgets" in page and "Bolt" not in page  # choices narrowed to alice's subtree
    # Another reseller's customer is not a valid choice.
    response = alice_client.post(url, {"customer": str(customer_b1.code)})
    assert response.status_code == 200
    assert "Choose one of the customers listed." in text(response)
    # None chosen: said plainly, and the first choice is marked for the focus.
    page = text(alice_client.post(url, {}))
    assert "Choose the customer to move it to." in page
    assert 'aria-invalid="true" aria-describedby="move-error"' in page
    response = alice_client.post(url, {"customer": str(customer_a_east.code)})
    assert response.status_code == 302
    client_a1.refresh_from_db()
    assert client_a1.customer == customer_a_east
    customer_a_east.refresh_from_db()
    assert customer_a_east.used_bytes == 2 * GB


def test_move_choices_are_searchable(alice_client, client_a1, reseller_a):
    services.create_customer(
        reseller_a, name="Zebra Zone", contact_email="z@z.example", acting_user=None, origin="test"
    )
    page = text(alice_client.get(reverse("client-move", args=[client_a1.code]) + "?q=zebra"))
    assert "Zebra Zone" in page


def test_delete_client_needs_its_id_typed(alice_client, client_a1, customer_a1):
    url = reverse("client-delete", args=[client_a1.code])
    response = alice_client.post(url, {"securecloud_id": "wrong@acme.example"})
    assert response.status_code == 200
    assert "This is not the client&#x27;s SecureCloud ID." in text(response)
    assert Client.objects.filter(pk=client_a1.pk).exists()
    response = alice_client.post(url, {"securecloud_id": "A1@acme.example"})
    assert response["Location"] == reverse("customer-pane", args=[customer_a1.code])
    assert not Client.objects.filter(pk=client_a1.pk).exists()


def test_client_actions_are_scoped(bob_client, client_a1):
    for name in ["client-disable", "client-enable", "client-delete", "client-move", "client-edit"]:
        assert (
            bob_client.post(
                reverse(name, args=[client_a1.code]), {"securecloud_id": "a1@acme.example"}
            ).status_code
            == 404
        ), name
    client_a1.refresh_from_db()
    assert client_a1.status == "pending"


def test_add_new_client_shows_every_error_at_once(alice_client, customer_a1, client_a1):
    response = alice_client.post(
        reverse("client-add", args=[customer_a1.code]),
        {
            "securecloud_id": "A1@ACME.EXAMPLE",
            "email": "not-an-email",
            "password": "abc",
            "password2": "abd",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already taken" in page
    assert "Enter a valid email address." in page
    assert "The two passwords do not match." in page
    assert "at least 8 characters" in page
