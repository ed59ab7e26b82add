"""`/usage` in the admin API: the month's figures by customer are export_usage's, for
the roles that see the usage page (a Technician's key gets 403), bounded to the key's
subtree; a customer's days and a reseller's months; prices set and removed through the
same service as the page's."""

import csv
import io
from datetime import date

import pytest
from django.core.management import call_command

from clients import services as client_services
from hierarchy.models import GB, AuditEvent
from securecloud.usage.models import Price
from tests.usage.conftest import calendar, created, local, report  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(settings, calendar, customer_a1, client_a1, customer_a_east, customer_b1, client_b1):  # noqa: F811
    settings.TIME_ZONE = "UTC"
    east_client = client_services.create_client(
        customer_a_east, securecloud_id="e1@east.example", acting_user=None, origin="test"
    )
    created(east_client, local(2026, 10, 1))
    created(client_a1, local(2026, 10, 1))
    created(client_b1, local(2026, 10, 1))
    report(client_a1, local(2026, 11, 1), 2 * GB)
    report(client_b1, local(2026, 11, 1), 7 * GB)
    calendar.record(date(2026, 11, 1))
    calendar.record(date(2026, 11, 2))
    calendar.set_today(date(2026, 12, 3))
    return customer_a1


def _export(reseller) -> list[dict]:
    out = io.StringIO()
    call_command("export_usage", "--reseller", reseller.name, "--month", "2026-11", stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_months_figures_are_the_exports(api, recorded, reseller_a):
    answer = api.get("/usage", {"month": "2026-11"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["month"] == "2026-11" and body["in_progress"] is False
    exported = {row["customer_id"]: row for row in _export(reseller_a)}
    shown = {row["customer_id"]: row for row in body["results"]}
    assert set(shown) == set(exported) and str(recorded.code) in shown
    for code, row in shown.items():
        for column in ("paid_clients", "trial_clients", "client_days"):
            assert str(row[column]) == exported[code][column]
        assert f"{float(row['avg_gb']):.3f}" == exported[code]["avg_gb"]
        assert f"{float(row['peak_gb']):.3f}" == exported[code]["peak_gb"]
    assert "Bolt" not in answer.content.decode()
    assert body["totals"]["client_days"] == sum(r["client_days"] for r in body["results"])


def test_amounts_show_once_prices_are_set(api, recorded, reseller_a):
    answer = api.put(
        f"/usage/resellers/{reseller_a.code}/prices",
        {"per_gb_month": "0.05", "per_paid_client": "2.50", "currency": "eur"},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["currency"] == "EUR"
    assert AuditEvent.objects.filter(
        action="usage.prices_set", origin="API key administrator key"
    ).exists()
    rows = api.get("/usage", {"month": "2026-11"}).json()["results"]
    acme = next(row for row in rows if row["customer"] == "Acme")
    assert acme["currency"] == "EUR" and acme["amount"] is not None
    bad = api.put(
        f"/usage/resellers/{reseller_a.code}/prices",
        {"per_gb_month": "-1", "per_paid_client": "1", "currency": "euro"},
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"per_gb_month", "currency"}
    assert api.delete(f"/usage/resellers/{reseller_a.code}/prices").status_code == 204
    assert not Price.objects.exists()
    assert api.get(f"/usage/resellers/{reseller_a.code}/prices").status_code == 404


def test_a_technicians_key_is_refused_the_figures(technician_api, billing_api, recorded):
    assert technician_api.get("/usage").status_code == 403
    assert billing_api.get("/usage", {"month": "2026-11"}).status_code == 200


def test_a_bad_month_or_cursor_names_the_problem(api, recorded):
    month = api.get("/usage", {"month": "November"})
    assert month.status_code == 422 and "YYYY-MM" in month.json()["detail"]
    cursor = api.get("/usage", {"cursor": "%%%"})
    assert cursor.status_code == 422


def test_the_month_is_paged(api, recorded, reseller_a):
    first = api.get("/usage", {"month": "2026-11", "page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = api.get(first["next"].split("/api/v1/admin", 1)[1]).json()
    assert second["results"] and second["results"] != first["results"]
    assert second["totals"] == first["totals"]


def test_a_customers_days_and_a_resellers_months(api, recorded, reseller_a):
    days = api.get(f"/usage/customers/{recorded.code}/days", {"days": 40}).json()
    assert len(days) == 40
    recorded_days = {d["day"]: d["used_bytes"] for d in days if d["used_bytes"] is not None}
    assert recorded_days == {"2026-11-01": 2 * GB, "2026-11-02": 2 * GB}
    months = api.get(f"/usage/resellers/{reseller_a.code}/months", {"months": 2}).json()
    assert [m["month"] for m in months] == ["2026-11", "2026-12"]
    assert months[0]["avg_gb"] != "0.000"


def test_another_tenants_usage_is_not_found(bravo_api, recorded, reseller_a):
    assert bravo_api.get("/usage", {"reseller": reseller_a.code}).status_code == 404
    assert bravo_api.get(f"/usage/customers/{recorded.code}/days").status_code == 404
    assert (
        bravo_api.put(
            f"/usage/resellers/{reseller_a.code}/prices",
            {"per_gb_month": "1", "per_paid_client": "1", "currency": "EUR"},
        ).status_code
        == 404
    )
    assert not Price.objects.exists()
