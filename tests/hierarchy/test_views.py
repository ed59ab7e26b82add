"""Console pages of the organisation tree: home, tree, reseller and customer panes.

Per page: it works, it needs sign-in, another reseller's object is a 404, mutations
refuse GET, and bad input re-renders the form with inline errors.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import GB, Membership, Node
from securecloud.accounts.models import Invitation


def text(response) -> str:
    return response.content.decode()


# --- Console home ---------------------------------------------------------------------


def test_home_is_the_list_of_customers_of_the_admins_reseller(alice_client, customer_a1, client_a1):
    response = alice_client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "List of Customers" in page
    assert "Reseller Admin" in page
    assert "Add New Customer" in page and "Add Sub-Reseller" in page
    assert '<nav aria-label="Breadcrumb"' in page
    assert "Legend" in page
    assert 'role="tree"' in page and 'role="treeitem"' in page and 'role="group"' in page
    # The reseller is the selected top level; Acme a second-level node with its key icon.
    assert re.search(r'aria-selected="true"[^>]*>\s*<svg[^>]*aria-label="Reseller"', page) or (
        'aria-selected="true"' in page
    )
    assert "Acme" in page
    assert 'aria-label="Auto-authorization: off"' in page
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]


def test_home_needs_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_without_reseller_is_told_so(client, db, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-Long-Password-1")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "not an admin of any reseller" in text(response)


def test_sign_in_page_has_the_sign_in_button(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert ">Sign in</button>" in text(response)


def test_sub_reseller_admin_sees_only_their_subtree(client, sam, customer_a1, customer_a_east):
    client.force_login(sam)
    page = text(client.get("/"))
    assert "Alpha East" in page and "East Widgets" in page
    assert "Acme" not in page and "Alpha Backup" not in page


# --- The tree -------------------------------------------------------------------------


def test_tree_expand_answers_the_children_partial_for_htmx(alice_client, customer_a1, client_a1):
    response = alice_client.get(
        reverse("tree-children", args=[customer_a1.code]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page  # a partial, not a page
    assert 'role="treeitem"' in page and "a1@acme.example" in page
    assert 'aria-label="Trial"' in page
    assert "HX-Request" in response["Vary"]


def test_tree_expand_without_htmx_goes_to_the_pane(alice_client, customer_a1):
    response = alice_client.get(reverse("tree-children", args=[customer_a1.code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-pane", args=[customer_a1.code])
    # The tree's second page of children starts the table's second page (25 rows each).
    response = alice_client.get(reverse("tree-children", args=[customer_a1.code]) + "?page=2")
    assert response["Location"] == reverse("customer-pane", args=[customer_a1.code]) + "?page=2"


def test_tree_expand_pages_children_with_show_more(alice_client, customer_a1):
    Client.objects.bulk_create(
        Client(
            customer=customer_a1,
            securecloud_id=f"bulk{i:03}@acme.example",
            plan="trial",
            trial_ends_at="2099-01-01T00:00:00Z",
        )
        for i in range(60)
    )
    url = reverse("tree-children", args=[customer_a1.code])
    first = text(alice_client.get(url, HTTP_HX_REQUEST="true"))
    assert first.count('role="treeitem"') == 26  # 25 clients + "Show more"
    assert "Show more" in first and f"{url}?page=2" in first
    # Without JavaScript the link opens the pane's table (25 a page) where row 26 is.
    pane = reverse("customer-pane", args=[customer_a1.code])
    assert f'href="{pane}?page=2"' in first
    second = text(alice_client.get(url + "?page=2", HTTP_HX_REQUEST="true"))
    assert second.count('role="treeitem"') == 26 and f"{url}?page=3" in second
    assert "bulk025@acme.example" in second and "bulk000@acme.example" not in second
    third = text(alice_client.get(url + "?page=3", HTTP_HX_REQUEST="true"))
    assert third.count('role="treeitem"') == 10 and "Show more" not in third
    assert "bulk059@acme.example" in third


def test_tree_expand_is_scoped(bob_client, customer_a1):
    url = reverse("tree-children", args=[customer_a1.code])
    assert bob_client.get(url, HTTP_HX_REQUEST="true").status_code == 404


def test_deep_link_to_a_client_expands_and_selects_it(alice_client, client_a1):
    page = text(alice_client.get(reverse("client-pane", args=[client_a1.code])))
    item = re.search(rf'<a role="treeitem"[^>]*id="ti-{client_a1.code}"[^>]*>', page)
    assert item and 'aria-selected="true"' in item.group(0)
    customer_item = re.search(
        rf'<a role="treeitem"[^>]*id="ti-{client_a1.customer.code}"[^>]*>', page, re.S
    )
    assert 'aria-expanded="true"' in customer_item.group(0)


# --- Reseller pane --------------------------------------------------------------------


def test_reseller_pane_of_a_sub_reseller(alice_client, sub_reseller_a, customer_a_east):
    response = alice_client.get(reverse("reseller-pane", args=[sub_reseller_a.code]))
    assert response.status_code == 200
    page = text(response)
    assert "East Widgets" in page
    # Breadcrumb: Alpha Backup › Alpha East
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group(0)
    assert crumbs.index("Alpha Backup") < crumbs.index("Alpha East")


def test_reseller_pane_is_scoped(bob_client, client, sam, reseller_a):
    url = reverse("reseller-pane", args=[reseller_a.code])
    assert bob_client.get(url).status_code == 404
    client.force_login(sam)  # a sub-reseller's admin never sees above
    assert client.get(url).status_code == 404


def test_reseller_pane_needs_sign_in(client, reseller_a):
    response = client.get(reverse("reseller-pane", args=[reseller_a.code]))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_customers_table_shows_counts_storage_key_and_reports(
    alice_client, reseller_a, customer_a1, client_a1
):
    Node.objects.filter(pk=customer_a1.pk).update(used_bytes=60 * GB)  # over its 50 GB
    page = text(alice_client.get("/"))
    table = re.search(r'<table class="table[^"]*customers-table.*?</table>', page, re.S).group(0)
    assert "Acme" in table
    assert '<td data-label="Clients">1</td>' in table  # one client
    assert "<meter" in table and "60 GB of 50 GB" in table
    assert "text-danger" in table  # over its usage space
    assert re.search(r'<td data-label="Email reports"[^>]*>.*?</svg> On</span></td>', table)


def cell_of(table: str, label: str) -> str:
    """The text of the first cell of that column (tags gone), and the icons it shows."""
    cell = re.search(rf'<td data-label="{label}"[^>]*>(.*?)</td>', table, re.S).group(1)
    icons = re.findall(r'<svg class="bi ?([^"]*)"[^>]*>.*?<use href="[^"#]*#bi-([\w-]+)"', cell)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
    return words, [(name, colour) for colour, name in icons]


def test_email_reports_on_and_off_differ_in_icon_colour_and_word(
    alice_client, reseller_a, customer_a1
):
    """Not a tiny badge alone: on is a filled green envelope and the word On, off an
    outlined grey one and the word Off."""
    page = text(alice_client.get("/"))
    table = re.search(r'<table class="table[^"]*customers-table.*?</table>', page, re.S).group(0)
    on_words, on_icons = cell_of(table, "Email reports")
    Node.objects.filter(pk=customer_a1.pk).update(email_reports=False)
    page = text(alice_client.get("/"))
    table = re.search(r'<table class="table[^"]*customers-table.*?</table>', page, re.S).group(0)
    off_words, off_icons = cell_of(table, "Email reports")
    assert (on_words, off_words) == ("On", "Off")
    assert on_icons == [("envelope-check-fill", "text-success")]
    assert off_icons == [("envelope-slash", "text-secondary")]
    # The legend explains both, each with its name for screen readers.
    legend = re.search(r'<details class="console-legend">.*?</details>', page, re.S).group(0)
    assert re.search(
        r'aria-label="Email reports: on"><title>[^<]*</title>'
        r'<use href="[^"#]*#bi-envelope-check-fill"',
        legend,
    )
    assert re.search(
        r'aria-label="Email reports: off"><title>[^<]*</title>'
        r'<use href="[^"#]*#bi-envelope-slash"',
        legend,
    )


def test_customers_table_sorts_and_pages(alice_client, reseller_a):
    for name, size in [("Charlie", 10), ("Alpha", 50), ("Bravo", 25)]:
        services.create_customer(
            reseller_a,
            name=name,
            contact_email=f"{name}@x.example",
            usage_space_bytes=size * GB,
            acting_user=None,
            origin="test",
        )
    page = text(alice_client.get("/?sort=-space"))
    table = re.search(r"<tbody>.*?</tbody>", page, re.S).group(0)
    assert table.index("Alpha") < table.index("Bravo") < table.index("Charlie")
    page = text(alice_client.get("/?sort=name"))
    table = re.search(r"<tbody>.*?</tbody>", page, re.S).group(0)
    assert table.index("Alpha") < table.index("Bravo") < table.index("Charlie")
    # Bad parameters fall back to defaults, never an error.
    assert alice_client.get("/?sort=drop+table&page=zzz").status_code == 200
    assert alice_client.get("/?page=999").status_code == 200


def test_customers_table_sorts_by_number_of_clients(
    alice_client, reseller_a, customer_a1, client_a1
):
    services.create_customer(
        reseller_a, name="Zero", contact_email="z@x.example", acting_user=None, origin="test"
    )
    table = re.search(r"<tbody>.*?</tbody>", text(alice_client.get("/?sort=-clients")), re.S)
    assert table.group(0).index("Acme") < table.group(0).index("Zero")
    table = re.search(r"<tbody>.*?</tbody>", text(alice_client.get("/?sort=clients")), re.S)
    assert table.group(0).index("Zero") < table.group(0).index("Acme")


def test_backup_health_summary_links_to_filtered_lists(
    alice_client, reseller_a, customer_a1, client_a1, customer_a_east
):
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(days=3)
    Client.objects.filter(pk=client_a1.pk).update(
        last_backup_status="failed", last_backup_at=old, last_success_at=old
    )
    east_client = client_services.create_client(
        customer_a_east, securecloud_id="fine@east.example", acting_user=None, origin="test"
    )
    Client.objects.filter(pk=east_client.pk).update(
        last_backup_status="success", last_success_at=timezone.now()
    )
    Node.objects.filter(pk=customer_a_east.pk).update(used_bytes=11 * GB)  # over 10 GB
    page = text(alice_client.get("/"))
    assert "Last backup failed: <strong>1</strong>" in page
    assert "No successful backup in 24 hours: <strong>1</strong>" in page
    assert "Customers over usage space: <strong>1</strong>" in page
    failed = text(alice_client.get(reverse("health-list", args=[reseller_a.code, "failed"])))
    assert "a1@acme.example" in failed and "fine@east.example" not in failed
    stale = text(alice_client.get(reverse("health-list", args=[reseller_a.code, "stale"])))
    assert "a1@acme.example" in stale and "fine@east.example" not in stale
    over = text(alice_client.get(reverse("health-list", args=[reseller_a.code, "over-quota"])))
    assert "East Widgets" in over and "Acme" not in over.split("<main")[1].split("console-pane")[1]
    assert (
        alice_client.get(reverse("health-list", args=[reseller_a.code, "nonsense"])).status_code
        == 404
    )


def test_health_list_is_scoped(bob_client, reseller_a):
    assert (
        bob_client.get(reverse("health-list", args=[reseller_a.code, "failed"])).status_code == 404
    )


# --- Admins ---------------------------------------------------------------------------


def test_invite_admin_sends_an_email_and_lists_the_pending_invitation(
    alice_client, reseller_a, mailoutbox
):
    url = reverse("admin-add", args=[reseller_a.code])
    response = alice_client.post(url, {"email": "carol@alpha.example", "role": "technician"})
    assert response.status_code == 302
    assert mailoutbox[0].to == ["carol@alpha.example"]
    assert not Membership.objects.filter(user__email="carol@alpha.example").exists()
    page = text(alice_client.get(response["Location"]))
    assert "Pending invitations" in page
    assert "carol@alpha.example" in page
    assert "one-time password" not in page


def test_invite_admin_errors_are_inline(alice_client, reseller_a, alice):
    response = alice_client.post(
        reverse("admin-add", args=[reseller_a.code]), {"email": "not an address"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in text(response)


def test_an_admin_of_a_sub_reseller_can_be_invited_from_above(
    alice_client, sub_reseller_a, mailoutbox
):
    url = reverse("admin-add", args=[sub_reseller_a.code])
    assert alice_client.post(url, {"email": "east2@alpha.example"}).status_code == 302
    assert Invitation.objects.get(email="east2@alpha.example").reseller == sub_reseller_a


def test_remove_admin(alice_client, sam, sub_reseller_a):
    membership = sam.membership
    response = alice_client.post(reverse("admin-remove", args=[membership.code]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_cannot_remove_own_login(alice_client, alice):
    response = alice_client.post(reverse("admin-remove", args=[alice.membership.code]), follow=True)
    assert "You cannot remove your own login." in text(response)
    assert Membership.objects.filter(user=alice).exists()


def test_admins_above_are_out_of_reach(client, sam, alice, bob):
    client.force_login(sam)
    assert client.post(reverse("admin-remove", args=[alice.membership.code])).status_code == 404
    assert client.post(reverse("admin-remove", args=[bob.membership.code])).status_code == 404
    assert Membership.objects.filter(user=alice).exists()


# --- Add New Customer, welcome email, sub-reseller ------------------------------------


def test_add_new_customer_form_has_the_product_words(alice_client, reseller_a):
    page = text(alice_client.get(reverse("customer-add", args=[reseller_a.code])))
    for label in [
        "Name",
        "Contact name",
        "Contact email",
        "Usage space",
        "Automatically add clients when they connect to the server",
        "Enable Email Reports",
    ]:
        assert re.search(
            rf"<label[^>]*>\s*{re.escape(label)}\s*\s*</label>",
            page,
        ), label
    select = re.search(r'<select name="usage_space_bytes".*?</select>', page, re.S).group(0)
    assert '<option value="10000000000" selected>10 GB</option>' in select
    assert ">Unlimited</option>" in select
    assert 'value="Save"' in page


def test_add_new_customer_then_dont_send(alice_client, reseller_a):
    response = alice_client.post(
        reverse("customer-add", args=[reseller_a.code]),
        {
            "name": "ABC Electric",
            "contact_name": "Alice Brown",
            "contact_email": "it@abc-electric.example",
            "usage_space_bytes": str(50 * GB),
            "auto_add_clients": "on",
            "email_reports": "on",
            "trial_days": "30",
        },
    )
    customer = Node.objects.get(name="ABC Electric")
    assert customer.parent == reseller_a and customer.auto_add_clients and customer.email_reports
    assert customer.usage_space_bytes == 50 * GB
    assert response["Location"] == reverse("customer-welcome", args=[customer.code])
    page = text(alice_client.get(response["Location"]))
    assert ">Don't Send</button>" in page.replace("&#x27;", "'") and "Send</button>" in page
    response = alice_client.post(response["Location"], {"action": "dont-send"})
    assert response["Location"] == reverse("customer-pane", args=[customer.code])
    assert mail.outbox == []
    page = text(alice_client.get(response["Location"]))
    assert 'aria-label="Auto-authorization: on"' in page
    assert "No clients" in page and "Add New Client" in page
    assert re.search(rf'id="ti-{customer.code}"[^>]*aria-selected="true"', page, re.S) or re.search(
        r'aria-selected="true"[^>]*aria-current="page"[^>]*>\s*<svg[^>]*Customer', page
    )


def test_send_welcome_email(alice_client, customer_a1):
    url = reverse("customer-welcome", args=[customer_a1.code])
    response = alice_client.post(url, {"action": "send"}, follow=True)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["it@acme.example"]
    assert "Acme" in mail.outbox[0].subject
    assert "Welcome email sent to it@acme.example." in text(response)
    assert "Sent to it@acme.example" in text(response)  # the customer pane's email state


def test_a_failing_mail_server_leaves_the_customer_created_and_says_why(
    alice_client, customer_a1, settings, monkeypatch
):
    from tests.email.backends import FailingBackend

    settings.EMAIL_BACKEND = "tests.email.backends.FailingBackend"
    monkeypatch.setattr(FailingBackend, "refused", {"it@acme.example"})
    url = reverse("customer-welcome", args=[customer_a1.code])
    response = alice_client.post(url, {"action": "send"}, follow=True)
    assert response.status_code == 200
    page = text(response)
    assert "The welcome email to it@acme.example failed" in page
    assert "Retry" in page
    assert Node.objects.filter(pk=customer_a1.pk).exists()


def test_unlimited_usage_space(alice_client, reseller_a):
    alice_client.post(
        reverse("customer-add", args=[reseller_a.code]),
        {
            "name": "Big",
            "contact_email": "big@x.example",
            "usage_space_bytes": "unlimited",
            "trial_days": "30",
        },
    )
    assert Node.objects.get(name="Big").usage_space_bytes is None


def test_add_new_customer_errors_are_inline(alice_client, reseller_a, customer_a1):
    response = alice_client.post(
        reverse("customer-add", args=[reseller_a.code]),
        {
            "name": "acme",
            "contact_email": "not-an-email",
            "usage_space_bytes": "12345",
            "trial_days": "0",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Enter a valid email address." in page
    assert "Select a valid choice." in page
    assert Node.objects.customers().count() == 1
    response = alice_client.post(
        reverse("customer-add", args=[reseller_a.code]),
        {
            "name": "acme",
            "contact_email": "a@x.example",
            "usage_space_bytes": str(10 * GB),
            "trial_days": "30",
        },
    )
    assert response.status_code == 200
    assert "This reseller already has a customer with this name." in text(response)


def test_add_new_customer_is_scoped(bob_client, reseller_a):
    url = reverse("customer-add", args=[reseller_a.code])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {"name": "X", "contact_email": "x@x.example"}).status_code == 404
    assert not Node.objects.filter(name="X").exists()


def test_add_sub_reseller(alice_client, reseller_a):
    response = alice_client.post(
        reverse("subreseller-add", args=[reseller_a.code]), {"name": "Alpha West"}
    )
    west = Node.objects.get(name="Alpha West")
    assert west.parent == reseller_a and west.is_reseller
    assert response["Location"] == reverse("reseller-pane", args=[west.code])
    page = text(alice_client.get(reverse("subreseller-add", args=[reseller_a.code])))
    assert 'value="Save"' in page


def test_add_sub_reseller_duplicate_name_is_inline(alice_client, reseller_a, sub_reseller_a):
    response = alice_client.post(
        reverse("subreseller-add", args=[reseller_a.code]), {"name": "alpha EAST"}
    )
    assert response.status_code == 200
    assert "A reseller with this name already exists." in text(response)


def test_another_tenants_reseller_names_are_neither_taken_nor_told(
    alice_client, reseller_a, reseller_b
):
    # Sub-reseller names are unique within their own tree: a refusal would tell Alpha's
    # admin that Bravo Storage exists.
    response = alice_client.post(
        reverse("subreseller-add", args=[reseller_a.code]), {"name": "bravo storage"}
    )
    assert response.status_code == 302
    sub = Node.objects.resellers().get(name="bravo storage")
    assert sub.parent == reseller_a and sub.tree_id == reseller_a.tree_id


def test_rename_a_sub_reseller(alice_client, sub_reseller_a):
    response = alice_client.post(
        reverse("reseller-edit", args=[sub_reseller_a.code]), {"name": "Alpha Prime"}
    )
    assert response.status_code == 302
    sub_reseller_a.refresh_from_db()
    assert sub_reseller_a.name == "Alpha Prime"


def test_only_the_operator_renames_a_top_level_reseller(alice_client, reseller_a, root):
    url = reverse("reseller-edit", args=[reseller_a.code])
    response = alice_client.post(url, {"name": "Alpha Prime"}, follow=True)
    assert "The name of a top-level reseller is changed by the server" in text(response)
    reseller_a.refresh_from_db()
    assert reseller_a.name == "Alpha Backup"
    alice_client.force_login(root)
    assert alice_client.post(url, {"name": "Alpha Prime"}).status_code == 302
    reseller_a.refresh_from_db()
    assert reseller_a.name == "Alpha Prime"


# --- Customer pane --------------------------------------------------------------------


def test_customer_pane_details(alice_client, customer_a1, client_a1, settings):
    settings.SITE_URL = "https://backup.alpha.example"
    page = text(alice_client.get(reverse("customer-pane", args=[customer_a1.code])))
    assert customer_a1.registration_key in page
    assert "https://backup.alpha.example" in page
    assert 'data-copy-target="registration-key"' in page
    assert "50 GB" in page
    table = re.search(r'<table class="table[^"]*clients-table.*?</table>', page, re.S).group(0)
    assert "a1@acme.example" in table and "Trial" in table and "days left" in table
    assert "No clients" not in page
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group(0)
    assert crumbs.index("Alpha Backup") < crumbs.index("Acme")


def test_customer_pane_is_scoped(bob_client, client, db, customer_a1):
    url = reverse("customer-pane", args=[customer_a1.code])
    assert bob_client.get(url).status_code == 404
    client.logout()
    assert client.get(url)["Location"].startswith("/login/")


def test_key_icon_toggles_auto_authorization(alice_client, customer_a1):
    url = reverse("customer-auto-authorization", args=[customer_a1.code])
    response = alice_client.post(url, follow=True)
    customer_a1.refresh_from_db()
    assert customer_a1.auto_add_clients
    assert "Auto-authorization is now on for Acme" in text(response)
    response = alice_client.post(url, follow=True)
    customer_a1.refresh_from_db()
    assert not customer_a1.auto_add_clients
    assert "Auto-authorization is now off for Acme" in text(response)


def test_a_double_click_on_the_key_does_not_flip_it_back(alice_client, customer_a1):
    from hierarchy.models import AuditEvent

    url = reverse("customer-auto-authorization", args=[customer_a1.code])
    alice_client.post(url, {"enabled": "1"})
    alice_client.post(url, {"enabled": "1"})  # the same page's button, clicked again
    customer_a1.refresh_from_db()
    assert customer_a1.auto_add_clients
    assert AuditEvent.objects.filter(action="customer.auto_authorization").count() == 1


def test_regenerate_registration_key(alice_client, customer_a1):
    old = customer_a1.registration_key
    alice_client.post(reverse("customer-regenerate-key", args=[customer_a1.code]))
    customer_a1.refresh_from_db()
    assert customer_a1.registration_key and customer_a1.registration_key != old


def test_edit_customer(alice_client, customer_a1):
    url = reverse("customer-edit", args=[customer_a1.code])
    page = text(alice_client.get(url))
    assert 'value="Acme"' in page and 'value="Save"' in page
    response = alice_client.post(
        url,
        {
            "name": "Acme Corp",
            "contact_email": "ops@acme.example",
            "usage_space_bytes": "unlimited",
            "trial_days": "14",
        },
    )
    assert response.status_code == 302
    customer_a1.refresh_from_db()
    assert (customer_a1.name, customer_a1.usage_space_bytes, customer_a1.trial_days) == (
        "Acme Corp",
        None,
        14,
    )
    assert not customer_a1.email_reports  # unticked box


def test_edit_customer_keeps_an_imported_usage_space(alice_client, customer_a1):
    Node.objects.filter(pk=customer_a1.pk).update(usage_space_bytes=1_500_000_000)
    page = text(alice_client.get(reverse("customer-edit", args=[customer_a1.code])))
    assert '<option value="1500000000" selected>1.5 GB</option>' in page


def test_edit_customer_errors_inline(alice_client, customer_a1):
    response = alice_client.post(
        reverse("customer-edit", args=[customer_a1.code]), {"name": "", "contact_email": ""}
    )
    assert response.status_code == 200
    assert "This field is required." in text(response)


def test_delete_customer_refused_while_it_has_clients(alice_client, customer_a1, client_a1):
    url = reverse("customer-delete", args=[customer_a1.code])
    page = text(alice_client.get(url))
    assert "still has clients" in page and "Move its clients" in page
    response = alice_client.post(url, follow=True)
    assert "move them to another customer or delete them first" in text(response)
    assert Node.objects.filter(pk=customer_a1.pk).exists()


def test_delete_customer_after_confirmation(alice_client, reseller_a, customer_a1):
    url = reverse("customer-delete", args=[customer_a1.code])
    assert "Delete Acme" in text(alice_client.get(url))
    response = alice_client.post(url)
    assert response["Location"] == reverse("reseller-pane", args=[reseller_a.code])
    assert not Node.objects.filter(pk=customer_a1.pk).exists()


def test_delete_customer_is_scoped(bob_client, customer_a1):
    assert bob_client.post(reverse("customer-delete", args=[customer_a1.code])).status_code == 404
    assert Node.objects.filter(pk=customer_a1.pk).exists()


# --- Search ---------------------------------------------------------------------------


def test_search_finds_customers_and_clients(alice_client, customer_a1, client_a1):
    response = alice_client.get("/search/?q=ACME")
    assert response.status_code == 200
    page = text(response)
    assert "a1@acme.example" in page and reverse("customer-pane", args=[customer_a1.code]) in page
    by_email = text(alice_client.get("/search/?q=it@acme", HTTP_HX_REQUEST="true"))
    assert "Acme" in by_email and "<html" not in by_email


def test_search_finds_a_customer_by_its_contact_name(alice_client, customer_a1):
    page = text(alice_client.get("/search/?q=ann acme", HTTP_HX_REQUEST="true"))
    assert reverse("customer-pane", args=[customer_a1.code]) in page


def test_search_is_scoped(bob_client, customer_a1, client_a1, client_b1):
    # ".example" is in every client's ID and every contact email, Alpha's included.
    page = text(bob_client.get("/search/?q=.example", HTTP_HX_REQUEST="true"))
    assert "acme" not in page.lower()
    assert "b1@bolt.example" in page


# --- Every console URL: sign-in, tenancy and methods -----------------------------------


@pytest.fixture
def alpha_urls(reseller_a, sub_reseller_a, customer_a1, client_a1, alice):
    r, c, cl = reseller_a.code, customer_a1.code, client_a1.code
    return {
        "get": [
            "/",
            reverse("reseller-pane", args=[r]),
            reverse("customer-add", args=[r]),
            reverse("subreseller-add", args=[r]),
            reverse("reseller-edit", args=[sub_reseller_a.code]),
            reverse("health-list", args=[r, "failed"]),
            reverse("customer-pane", args=[c]),
            reverse("customer-welcome", args=[c]),
            reverse("customer-edit", args=[c]),
            reverse("customer-delete", args=[c]),
            reverse("client-add", args=[c]),
            reverse("client-pane", args=[cl]),
            reverse("client-edit", args=[cl]),
            reverse("client-switch-to-paid", args=[cl]),
            reverse("client-move", args=[cl]),
            reverse("client-delete", args=[cl]),
            "/search/?q=a",
        ],
        "post_only": [
            reverse("admin-add", args=[r]),
            reverse("admin-remove", args=[alice.membership.code]),
            reverse("customer-auto-authorization", args=[c]),
            reverse("customer-regenerate-key", args=[c]),
            reverse("client-extend-trial", args=[cl]),
            reverse("client-reset-password", args=[cl]),
            reverse("client-disable", args=[cl]),
            reverse("client-enable", args=[cl]),
        ],
    }


def test_every_page_works_for_its_admin(alice_client, alpha_urls):
    for url in alpha_urls["get"]:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert "style=" not in text(response), url  # the CSP forbids inline styles
        assert "<script>" not in text(response), url


def test_every_page_needs_sign_in(client, alpha_urls):
    for url in alpha_urls["get"] + alpha_urls["post_only"]:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/login/"), url


def test_every_page_is_404_for_another_reseller(bob_client, alpha_urls):
    for url in alpha_urls["get"][1:-1]:
        assert bob_client.get(url).status_code == 404, url
    for url in alpha_urls["post_only"]:
        assert bob_client.post(url).status_code == 404, url


def test_mutations_refuse_get(alice_client, alpha_urls):
    for url in alpha_urls["post_only"]:
        assert alice_client.get(url).status_code == 405, url


def test_a_failed_invitation_email_is_a_message_and_can_be_sent_again(
    alice_client, reseller_a, mailoutbox, settings, monkeypatch
):
    from tests.email.backends import FailingBackend

    settings.EMAIL_BACKEND = "tests.email.backends.FailingBackend"
    monkeypatch.setattr(FailingBackend, "refused", {"linda@alpha.example"})
    response = alice_client.post(
        reverse("admin-add", args=[reseller_a.code]),
        {"email": "linda@alpha.example"},
        follow=True,
    )
    assert response.status_code == 200
    assert "The invitation email to linda@alpha.example failed" in text(response)
    invitation = Invitation.objects.get(email="linda@alpha.example")
    monkeypatch.setattr(FailingBackend, "refused", set())
    response = alice_client.post(reverse("invitation-resend", args=[invitation.code]), follow=True)
    assert "Invitation sent to linda@alpha.example." in text(response)
    assert [message.to for message in mailoutbox] == [["linda@alpha.example"]]
    assert alice_client.get(reverse("invitation-resend", args=[invitation.code])).status_code == 405


def test_an_admin_without_a_password_can_get_a_link_to_set_one(
    alice_client, reseller_a, mailoutbox, settings
):
    settings.SITE_URL = "https://console.example.com"
    linda = memberships.add_reseller_admin(
        reseller_a,
        username="linda",
        email="linda@alpha.example",
        password=memberships.FirstSignIn.EMAIL_LINK,
        acting_user=None,
        origin="test",
    ).user
    response = alice_client.post(reverse("admin-send-link", args=[linda.membership.code]))
    assert response.status_code == 302
    link = re.search(r"https://console\.example\.com(/account/reset/\S+/)", mailoutbox[0].body)
    assert link, mailoutbox[0].body  # built from SITE_URL, not from the request's host


def test_after_a_refused_admin_form_the_two_factor_form_still_comes_back_to_the_pane(
    alice_client, reseller_a
):
    response = alice_client.post(reverse("admin-add", args=[reseller_a.code]), {"email": "x"})
    assert response.status_code == 200
    pane = reverse("reseller-pane", args=[reseller_a.code])
    assert f'name="next" value="{pane}"' in text(response)
    sorted_page = text(alice_client.get(pane + "?sort=clients"))
    assert f'name="next" value="{pane}?sort=clients"' in sorted_page


def test_a_post_without_fields_gets_the_forms_errors_not_the_empty_form(alice_client, reseller_a):
    response = alice_client.post(reverse("customer-add", args=[reseller_a.code]), {})
    assert response.status_code == 200
    assert "is-invalid" in text(response)
    assert not Node.objects.customers().exists()


# --- Navigation -----------------------------------------------------------------------


def test_opening_a_customer_expands_its_clients_in_the_tree(alice_client, customer_a1, client_a1):
    """Without JavaScript a click on a customer in the tree loads its pane, with the
    customer open in the tree to show its clients."""
    page = text(alice_client.get(reverse("customer-pane", args=[customer_a1.code])))
    item = re.search(rf'<a role="treeitem"[^>]*id="ti-{customer_a1.code}"[^>]*>', page, re.S)
    assert 'aria-expanded="true"' in item.group(0) and 'aria-selected="true"' in item.group(0)
    group = re.search(rf'<ul role="group" id="tg-{customer_a1.code}"[^>]*>', page).group(0)
    assert "hidden" not in group
    assert f'id="ti-{client_a1.code}"' in page


def test_the_tree_shows_a_client_id_whole_not_only_on_hover(alice_client, customer_a1):
    long_id = ("frontdesk" * 20) + "@acme.example"
    client = client_services.create_client(
        customer_a1,
        securecloud_id=long_id,
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )
    page = text(alice_client.get(reverse("customer-pane", args=[customer_a1.code])))
    item = re.search(rf'<a role="treeitem"[^>]*id="ti-{client.code}".*?</a>', page, re.S).group(0)
    assert f'<span class="tree-label">{long_id}</span>' in item
    assert "title=" not in item


def test_report_preview_shows_in_the_pane_under_the_tree_with_the_whole_path(
    alice_client, customer_a_east
):
    page = text(alice_client.get(reverse("email-report-preview", args=[customer_a_east.code])))
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group(0)
    steps = [re.sub(r"<[^>]+>", "", step).strip() for step in re.findall(r"<li.*?</li>", crumbs)]
    assert steps == ["Alpha Backup", "Alpha East", "East Widgets", "Report preview"]
    assert re.search(
        r'<li class="breadcrumb-item active" aria-current="page">Report preview', crumbs
    )
    assert 'role="tree"' in page
    item = re.search(rf'<a role="treeitem"[^>]*id="ti-{customer_a_east.code}"[^>]*>', page)
    assert 'aria-selected="true"' in item.group(0)
    assert "Backup report preview" in page.split('id="pane"', 1)[1]


def test_auto_authorization_says_its_state_and_offers_the_action_apart(alice_client, customer_a1):
    """A state line with the key icon ("Auto-authorization: Off") and a plain button
    that says what it does ("Turn on"), not a coloured button that reads like a state."""
    url = reverse("customer-pane", args=[customer_a1.code])

    def state_and_button(page):
        form = re.search(
            r'<form[^>]*action="[^"]*/auto-authorization/"[^>]*>.*?</form>', page, re.S
        ).group(0)
        state = re.search(r'<span class="auto-authorization-state">(.*?)</span>', form, re.S)
        button = re.search(r"<button([^>]*)>(.*?)</button>", form, re.S)
        words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", state.group(1))).strip()
        return words, state.group(1), button.group(1), button.group(2)

    words, icon, attrs, label = state_and_button(text(alice_client.get(url)))
    assert words == "Auto-authorization: Off"
    assert "#bi-unlock" in icon
    assert "btn-outline-secondary" in attrs and "btn-success" not in attrs
    assert label == 'Turn on<span class="visually-hidden"> auto-authorization</span>'

    alice_client.post(reverse("customer-auto-authorization", args=[customer_a1.code]))
    words, icon, attrs, label = state_and_button(text(alice_client.get(url)))
    assert words == "Auto-authorization: On"
    assert "#bi-lock-fill" in icon and "text-success" in icon  # the key, locked
    assert "btn-outline-secondary" in attrs and "btn-success" not in attrs
    assert label == 'Turn off<span class="visually-hidden"> auto-authorization</span>'
