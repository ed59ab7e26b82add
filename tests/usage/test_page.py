"""The usage page: for Administrators, Billing and Read-only admins (a Technician is
refused), bounded to the reseller's subtree, grouped by sub-reseller with subtotals, and
the reseller's prices; the panes' charts with their data tables."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from hierarchy import memberships
from hierarchy.models import GB, AuditEvent
from securecloud.usage import prices
from securecloud.usage.models import Price
from tests.conftest import PASSWORD
from tests.usage.conftest import created, local, report


def _admin(reseller, role):
    return memberships.add_reseller_admin(
        reseller,
        username=f"{role}-admin",
        password=PASSWORD,
        role=role,
        acting_user=None,
        origin="test",
    ).user


@pytest.fixture
def recorded(settings, calendar, customer_a1, client_a1, customer_a_east, customer_b1, client_b1):
    """Acme (2 GB) and Bolt (7 GB) recorded on November 1st and 2nd; East Widgets has no
    clients. The page is read on December 3rd."""
    settings.TIME_ZONE = "UTC"
    created(client_a1, local(2026, 10, 1))
    created(client_b1, local(2026, 10, 1))
    report(client_a1, local(2026, 11, 1), 2 * GB)
    report(client_b1, local(2026, 11, 1), 7 * GB)
    calendar.record(date(2026, 11, 1))
    calendar.record(date(2026, 11, 2))
    calendar.set_today(date(2026, 12, 3))
    return customer_a1


def _page(client, reseller, month="2026-11"):
    return client.get(reverse("reseller-usage", args=[reseller.code]), {"month": month})


def test_an_administrator_sees_its_customers_month(alice_client, recorded, reseller_a):
    response = _page(alice_client, reseller_a)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme" in html
    # 2 GB for 2 of November's 30 days: 0.133 GB on average, a 2 GB peak.
    assert ">0.133<" in html and ">2.000<" in html
    assert "Bolt" not in html
    assert " style=" not in html


def test_another_resellers_usage_is_out_of_reach(client, alice, bob, recorded, reseller_b):
    client.force_login(alice)
    assert _page(client, reseller_b).status_code == 404
    url = reverse("reseller-usage-csv", args=[reseller_b.code])
    assert client.get(url, {"month": "2026-11"}).status_code == 404
    # Bob's own page and CSV show Bolt, and nothing of Alpha's.
    client.force_login(bob)
    body = b"".join(client.get(url, {"month": "2026-11"}).streaming_content).decode()
    assert "Bolt" in body and "Acme" not in body and "Alpha" not in body


def test_a_sub_resellers_admin_sees_only_its_subtree(
    client, recorded, sam, sub_reseller_a, reseller_a
):
    client.force_login(sam)
    assert _page(client, reseller_a).status_code == 404
    response = _page(client, sub_reseller_a)
    assert response.status_code == 200
    assert "Acme" not in response.content.decode()


@pytest.mark.parametrize("role", ["billing", "read_only"])
def test_billing_and_read_only_admins_read_the_page(client, recorded, reseller_a, role):
    client.force_login(_admin(reseller_a, role))
    response = _page(client, reseller_a)
    assert response.status_code == 200
    assert "Acme" in response.content.decode()
    # They read the prices but the form to change them is an Administrator's.
    assert reverse("reseller-prices", args=[reseller_a.code]) not in response.content.decode()


def test_a_technician_is_refused_the_page_its_csv_and_the_menu_entry(client, recorded, reseller_a):
    client.force_login(_admin(reseller_a, "technician"))
    assert _page(client, reseller_a).status_code == 403
    csv = client.get(reverse("reseller-usage-csv", args=[reseller_a.code]), {"month": "2026-11"})
    assert csv.status_code == 403
    assert client.get(reverse("usage-home")).status_code == 403
    home = client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert reverse("usage-home") not in home
    assert reverse("reseller-usage", args=[reseller_a.code]) not in home


def test_the_menu_leads_to_the_own_resellers_page(alice_client, reseller_a):
    home = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    assert reverse("usage-home") in home
    response = alice_client.get(reverse("usage-home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reseller-usage", args=[reseller_a.code])


def test_sub_resellers_are_groups_with_subtotals_and_totals(
    alice_client, settings, calendar, reseller_a, customer_a1, client_a1, customer_a_east
):
    from clients import services as client_services

    settings.TIME_ZONE = "UTC"
    east_client = client_services.create_client(
        customer_a_east, securecloud_id="e1@east.example", acting_user=None, origin="test"
    )
    for client, size in ((client_a1, 3 * GB), (east_client, 6 * GB)):
        created(client, local(2026, 10, 1))
        report(client, local(2026, 10, 31), size)
    for day in range(1, 31):
        calendar.record(date(2026, 11, day))
    prices.set_prices(
        reseller_a,
        per_gb_month="1",
        per_paid_client="0",
        currency="EUR",
        acting_user=None,
        origin="test",
    )
    page = _page(alice_client, reseller_a).content.decode()
    html = page[page.index("usage-table") :]
    assert html.index("Alpha Backup</a></th>") < html.index("Acme") < html.index("Alpha East</a>")
    assert html.index("Alpha East</a>") < html.index("East Widgets")
    assert "Subtotal Alpha Backup" in html and "Subtotal Alpha East" in html
    assert "3.00 EUR" in html  # Acme: 3 GB-months at 1 EUR
    assert "no prices" in html  # East Widgets: Alpha East set none
    total = html[html.index('class="usage-total"') :]
    assert ">9.000<" in total and ">60<" in total  # 3 + 6 GB; 2 clients × 30 days


def test_a_bad_month_gets_a_message_not_an_error(alice_client, reseller_a):
    response = _page(alice_client, reseller_a, month="2026-13")
    assert response.status_code == 400
    assert "is not a month" in response.content.decode()
    csv = alice_client.get(
        reverse("reseller-usage-csv", args=[reseller_a.code]), {"month": "last month"}
    )
    assert csv.status_code == 400
    assert "is not a month" in csv.content.decode()


def test_an_administrator_sets_prices_and_the_history_says_so(alice_client, alice, reseller_a):
    url = reverse("reseller-prices", args=[reseller_a.code])
    response = alice_client.post(
        url, {"per_gb_month": "0,05", "per_paid_client": "2", "currency": "eur"}
    )
    assert response.status_code == 302
    price = Price.objects.get(reseller=reseller_a)
    assert (price.per_gb_month, price.per_paid_client, price.currency) == (
        Decimal("0.05"),
        Decimal("2"),
        "EUR",
    )
    event = AuditEvent.objects.get(action="usage.prices_set")
    assert event.actor == alice and event.reseller == reseller_a
    assert event.origin.startswith("console")
    bad = alice_client.post(url, {"per_gb_month": "-1", "per_paid_client": "x", "currency": "€"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Enter a price from 0 to 99999999." in text
    assert "Enter a price, e.g. 0.05." in text
    assert "three-letter currency code" in text
    assert Price.objects.get(reseller=reseller_a).currency == "EUR"
    alice_client.post(url, {"clear": "1"})
    assert not Price.objects.filter(reseller=reseller_a).exists()


def test_a_billing_admin_cannot_set_prices(client, reseller_a):
    client.force_login(_admin(reseller_a, "billing"))
    url = reverse("reseller-prices", args=[reseller_a.code])
    response = client.post(url, {"per_gb_month": "1", "per_paid_client": "1", "currency": "EUR"})
    assert response.status_code == 403
    assert not Price.objects.exists()


def test_the_customer_pane_charts_90_days_against_the_usage_space(
    alice_client, recorded, customer_a1
):
    pane = alice_client.get(reverse("customer-pane", args=[customer_a1.code])).content.decode()
    url = reverse("customer-storage", args=[customer_a1.code])
    assert f'hx-get="{url}" hx-trigger="load"' in pane and f'href="{url}"' in pane
    html = alice_client.get(url).content.decode()
    assert 'id="customer-storage-chart"' in html
    assert "Storage over the last 90 days" in html
    assert 'class="chart-line"' in html or 'class="chart-dot"' in html
    assert 'class="chart-limit"' in html and "Usage space 50 GB" in html
    # The data table: every one of the 90 days, recorded or not.
    assert '<td class="text-end">2.000</td>' in html
    assert html.count("not recorded") == 88
    assert " style=" not in html


def test_the_reseller_pane_shows_12_months_of_storage_and_paid_clients(
    alice_client, recorded, reseller_a
):
    """The pane loads the section from its own page (a link without JavaScript)."""
    pane = alice_client.get(reverse("reseller-pane", args=[reseller_a.code])).content.decode()
    url = reverse("reseller-usage-figures", args=[reseller_a.code])
    assert f'hx-get="{url}" hx-trigger="load"' in pane and f'href="{url}"' in pane
    html = alice_client.get(url).content.decode()
    assert 'id="reseller-usage-figures"' in html
    assert "Storage and paid clients over the last 12 months" in html
    assert html.count('class="chart-bar"') == 24
    assert '<th scope="row" class="fw-normal">2026-11</th><td class="text-end">0.133</td>' in html
    assert " style=" not in html


def test_the_page_costs_the_same_queries_for_more_customers(
    alice_client, settings, calendar, reseller_a, django_assert_max_num_queries
):
    from clients import services as client_services
    from hierarchy import services

    settings.TIME_ZONE = "UTC"

    def add_customers(count, start):
        for number in range(start, start + count):
            customer = services.create_customer(
                reseller_a,
                name=f"Customer {number}",
                contact_email=f"it@c{number}.example",
                acting_user=None,
                origin="test",
            )
            client_services.create_client(
                customer,
                securecloud_id=f"c{number}@example.com",
                password="client-pass-1",
                acting_user=None,
                origin="t",
            )

    add_customers(2, 0)
    calendar.record(date(2026, 11, 30))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _page(alice_client, reseller_a)
    add_customers(20, 2)
    calendar.record(date(2026, 11, 30))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _page(alice_client, reseller_a)
    assert response.content.decode().count("Customer ") >= 22


def test_a_sub_reseller_sets_its_own_prices_for_its_own_customers(
    client, settings, calendar, reseller_a, alice, sam, sub_reseller_a, customer_a_east
):
    """Alice sees each customer at its own reseller's prices, and a total per currency."""
    from clients import services as client_services

    settings.TIME_ZONE = "UTC"
    east_client = client_services.create_client(
        customer_a_east, securecloud_id="e1@east.example", acting_user=None, origin="test"
    )
    east_client = client_services.switch_to_paid(east_client, acting_user=None, origin="t")
    created(east_client, local(2026, 10, 1))
    calendar.record(date(2026, 11, 30))
    client.force_login(sam)
    response = client.post(
        reverse("reseller-prices", args=[sub_reseller_a.code]),
        {"per_gb_month": "0", "per_paid_client": "3.5", "currency": "USD"},
    )
    assert response.status_code == 302
    prices.set_prices(
        reseller_a,
        per_gb_month="1",
        per_paid_client="9",
        currency="EUR",
        acting_user=alice,
        origin="test",
    )
    client.force_login(alice)
    page = _page(client, reseller_a).content.decode()
    table = page[page.index("usage-table") :]
    assert "3.50 USD" in table  # East Widgets' one paid client at Alpha East's price
    assert "EUR" not in table.split("usage-total")[0].split("East Widgets")[1]
    # Sam cannot set Alpha Backup's prices: that reseller is above his.
    client.force_login(sam)
    refused = client.post(
        reverse("reseller-prices", args=[reseller_a.code]),
        {"per_gb_month": "0", "per_paid_client": "0", "currency": "USD"},
    )
    assert refused.status_code == 404


def test_a_customer_user_sees_its_customers_storage_chart_only(
    client, recorded, customer_a1, customer_a_east
):
    carol = memberships.add_customer_user(
        customer_a1, username="carol", password=PASSWORD, acting_user=None, origin="test"
    ).user
    client.force_login(carol)
    own = client.get(reverse("customer-storage", args=[customer_a1.code]))
    assert own.status_code == 200
    assert "Storage of Acme over the last 90 days" in own.content.decode()
    assert client.get(reverse("customer-storage", args=[customer_a_east.code])).status_code == 404
    assert client.get(reverse("usage-home")).status_code == 403


def test_a_long_table_comes_in_pages_with_totals_of_all(
    alice_client, monkeypatch, settings, calendar, reseller_a, customer_a1, client_a1
):
    """A group that goes on over a page break says so, its subtotal comes where it
    ends, and the totals cover every customer on every page."""
    from clients import services as client_services
    from hierarchy import services
    from securecloud.console import usage_views

    settings.TIME_ZONE = "UTC"
    monkeypatch.setattr(usage_views, "USAGE_PAGE_SIZE", 2)
    for number in (2, 3):
        customer = services.create_customer(
            reseller_a,
            name=f"Acme {number}",
            contact_email=f"it@acme{number}.example",
            acting_user=None,
            origin="test",
        )
        client_services.create_client(
            customer,
            securecloud_id=f"a{number}@acme.example",
            password="client-pass-1",
            acting_user=None,
            origin="test",
        )
    from clients.models import Client

    Client.objects.update(created_at=local(2026, 10, 1))
    calendar.record(date(2026, 11, 30))
    url = reverse("reseller-usage", args=[reseller_a.code])
    first = alice_client.get(url, {"month": "2026-11"}).content.decode()
    second = alice_client.get(url, {"month": "2026-11", "page": "2"}).content.decode()
    first, second = first[first.index("usage-table") :], second[second.index("usage-table") :]
    assert "Acme 2" in first and "Acme 3" not in first and "(continued)" not in first
    assert "Acme 3" in second and "(continued)" in second
    assert "?month=2026-11&amp;page=2" in first
    for page in (first, second):
        total = page[page.index('class="usage-total"') :]
        assert "(all 3 customers)" in total and ">3<" in total  # 3 trial clients
