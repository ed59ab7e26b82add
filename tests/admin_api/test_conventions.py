"""The admin API's conventions: cursor pages with a `next` link, problem+json errors,
idempotent POSTs (also when two arrive at once), If-Match (also in a race), and the
per-key rate limit."""

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client as DjangoClient

from clients import services as client_services
from clients.models import Client
from hierarchy.models import AuditEvent, Node
from securecloud.api.models import IdempotentRequest
from tests.admin_api.conftest import KeyClient, make_key

pytestmark = pytest.mark.django_db


def _add_clients(customer, count):
    for i in range(count):
        client_services.create_client(
            customer,
            securecloud_id=f"c{i}@page.example",
            password="Page-pass-2026",
            acting_user=None,
            origin="test",
        )


# --- Pagination -----------------------------------------------------------------------


def test_lists_are_paged_by_cursor_until_the_end(api, customer_a1):
    _add_clients(customer_a1, 12)
    seen, pages = [], 0
    url, params = "/clients", {"page_size": 5}
    while True:
        answer = api.get(url, params)
        assert answer.status_code == 200
        page = answer.json()
        seen += [client["id"] for client in page["results"]]
        pages += 1
        if not page["next"]:
            break
        assert "cursor=" in page["next"]
        url, params = page["next"].split("/api/v1/admin", 1)[1], None
    assert pages == 3
    assert len(seen) == len(set(seen)) == Client.objects.filter(customer=customer_a1).count()


def test_a_page_costs_the_same_queries_whatever_its_size(
    api, customer_a1, django_assert_max_num_queries
):
    _add_clients(customer_a1, 30)
    with django_assert_max_num_queries(4):  # key, last used, page, (nothing per client)
        answer = api.get("/clients", {"page_size": 30})
    assert len(answer.json()["results"]) == 30


def test_a_bad_cursor_is_a_problem_not_a_500(api):
    answer = api.get("/clients", {"cursor": "not base64!"})
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert "cursor" in answer.json()["errors"]


@pytest.mark.parametrize(
    "params",
    [
        {"plan": "gold"},
        {"status": "sleeping"},
        {"no_success_since": "yesterday"},
        {"customer": "x"},
    ],
)
def test_a_bad_filter_names_the_field(api, params):
    answer = api.get("/clients", params)
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == set(params)


def test_clients_filter_by_plan_status_and_backups(api, customer_a1, client_a1):
    _add_clients(customer_a1, 2)
    client_services.switch_to_paid(client_a1, acting_user=None, origin="test")
    paid = api.get("/clients", {"plan": "paid"}).json()["results"]
    assert [c["id"] for c in paid] == [str(client_a1.code)]
    silent = api.get("/clients", {"no_success_since": "2020-01-01T00:00:00Z"}).json()["results"]
    assert len(silent) == 3  # none has backed up yet
    assert api.get("/clients", {"last_backup_status": "failed"}).json()["results"] == []


def test_customers_filter_by_reseller_and_name(api, customer_a1, customer_a_east, sub_reseller_a):
    by_reseller = api.get("/customers", {"reseller": sub_reseller_a.code}).json()["results"]
    assert [c["name"] for c in by_reseller] == ["East Widgets"]
    by_name = api.get("/customers", {"name": "acm"}).json()["results"]
    assert [c["name"] for c in by_name] == ["Acme"]


# --- Errors ---------------------------------------------------------------------------


def test_errors_are_rfc_9457_problems(api, customer_a1):
    missing = api.get(f"/customers/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert set(missing.json()) == {"type", "title", "status", "detail"}
    assert missing.json()["status"] == 404

    invalid = api.post("/customers", {"name": "", "contact_email": "not an address"})
    assert invalid.status_code == 422
    errors = invalid.json()["errors"]
    assert errors["name"] == ["Enter a name."]
    assert "contact_email" in errors

    unknown_field = api.post(
        "/customers", {"name": "X", "contact_email": "x@x.example", "colour": 1}
    )
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["errors"]

    broken = api.client.post(
        "/api/v1/admin/customers",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    assert 400 <= broken.status_code < 500
    assert broken["Content-Type"] == "application/problem+json"
    assert not Node.objects.filter(name="X").exists()


def test_deleting_a_customer_with_clients_is_a_conflict(api, customer_a1, client_a1):
    answer = api.delete(f"/customers/{customer_a1.code}")
    assert answer.status_code == 409
    assert "still has 1 client" in answer.json()["detail"]
    assert Node.objects.filter(pk=customer_a1.pk).exists()


def test_a_key_cannot_delete_its_own_reseller(api, reseller_a):
    assert api.delete(f"/resellers/{reseller_a.code}").status_code == 409
    assert Node.objects.filter(pk=reseller_a.pk).exists()


def test_the_top_level_reseller_is_renamed_by_the_operator_only(api, reseller_a):
    answer = api.patch(f"/resellers/{reseller_a.code}", {"name": "Other"})
    assert answer.status_code == 403
    assert "operator" in answer.json()["detail"]


def test_the_whole_lifecycle_of_a_sub_reseller(api, reseller_a):
    created = api.post("/resellers", {"name": "Alpha North"})
    assert created.status_code == 201
    sub = created.json()
    assert sub["parent"] == str(reseller_a.code)
    renamed = api.patch(f"/resellers/{sub['id']}", {"name": "Alpha Nord"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Alpha Nord"
    assert api.delete(f"/resellers/{sub['id']}").status_code == 204
    assert not Node.objects.filter(code=sub["id"]).exists()
    own = api.get(f"/resellers/{reseller_a.code}").json()
    assert own["parent"] is None


# --- Idempotency ----------------------------------------------------------------------

NEW_CUSTOMER = {"name": "Initech", "contact_email": "it@initech.example"}


def test_a_repeated_post_answers_the_same_and_creates_once(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-initech-1"}
    first = api.post("/customers", NEW_CUSTOMER, headers=headers)
    second = api.post("/customers", NEW_CUSTOMER, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert Node.objects.filter(name="Initech").count() == 1
    assert AuditEvent.objects.filter(action="customer.created").count() == 1


def test_the_same_key_with_another_body_is_refused(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-initech-2"}
    assert api.post("/customers", NEW_CUSTOMER, headers=headers).status_code == 201
    other = api.post("/customers", {**NEW_CUSTOMER, "name": "Initrode"}, headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["errors"]
    assert not Node.objects.filter(name="Initrode").exists()


def test_a_refused_request_is_replayed_as_refused(api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "bad-one"}
    body = {"name": "", "contact_email": "x@x.example"}
    first = api.post("/customers", body, headers=headers)
    again = api.post("/customers", body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()


def test_keys_do_not_share_idempotency_keys(client, api, reseller_a):
    other = KeyClient(client, make_key(reseller_a, name="Other"))
    headers = {"HTTP_IDEMPOTENCY_KEY": "same"}
    assert api.post("/customers", NEW_CUSTOMER, headers=headers).status_code == 201
    second = other.post("/customers", {**NEW_CUSTOMER, "name": "Initrode"}, headers=headers)
    assert second.status_code == 201 and second.json()["name"] == "Initrode"


def test_an_idempotency_key_must_be_printable(api):
    answer = api.post("/customers", NEW_CUSTOMER, headers={"HTTP_IDEMPOTENCY_KEY": "x" * 300})
    assert answer.status_code == 400
    assert not Node.objects.filter(name="Initech").exists()


def test_after_24_hours_the_key_is_new_again(api):
    from datetime import timedelta

    from django.utils import timezone

    headers = {"HTTP_IDEMPOTENCY_KEY": "daily"}
    assert api.post("/customers", NEW_CUSTOMER, headers=headers).status_code == 201
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = api.post("/customers", NEW_CUSTOMER, headers=headers)
    assert again.status_code == 422  # ran again: the name is taken now
    assert "already has a customer with this name" in again.json()["detail"]


def _at_once(count, job):
    results, errors = [], []
    start = threading.Barrier(count)

    def run():
        try:
            start.wait(timeout=30)
            results.append(job())
        except BaseException as exc:  # noqa: BLE001 - asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_with_one_key_create_one_object(reseller_a):
    secret = make_key(reseller_a, name="Racer")

    def post():
        api = KeyClient(DjangoClient(), secret)
        answer = api.post(
            "/clients",
            {
                "customer": str(customer.code),
                "securecloud_id": "race@x.example",
                "password": "Race-pass-2026",
            },
            headers={"HTTP_IDEMPOTENCY_KEY": "race-1"},
        )
        return answer.status_code, answer.json()

    from hierarchy import services

    customer = services.create_customer(
        reseller_a, name="Race", contact_email="r@x.example", acting_user=None, origin="test"
    )
    results = _at_once(4, post)
    assert [status for status, _ in results] == [201] * 4
    assert len({body["id"] for _, body in results}) == 1
    assert Client.objects.filter(securecloud_id="race@x.example").count() == 1
    assert AuditEvent.objects.filter(action="client.created").count() == 1


# --- If-Match -------------------------------------------------------------------------


def test_an_update_with_a_stale_etag_is_refused(api, customer_a1):
    etag = api.get(f"/customers/{customer_a1.code}")["ETag"]
    changed = api.patch(
        f"/customers/{customer_a1.code}", {"trial_days": 7}, headers={"HTTP_IF_MATCH": etag}
    )
    assert changed.status_code == 200 and changed["ETag"] != etag
    stale = api.patch(
        f"/customers/{customer_a1.code}", {"trial_days": 9}, headers={"HTTP_IF_MATCH": etag}
    )
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    customer_a1.refresh_from_db()
    assert customer_a1.trial_days == 7
    assert (
        api.delete(f"/clients/{uuid.uuid4()}", headers={"HTTP_IF_MATCH": etag}).status_code == 404
    )


def test_a_delete_with_a_stale_etag_is_refused(api, client_a1):
    etag = api.get(f"/clients/{client_a1.code}")["ETag"]
    assert api.post(f"/clients/{client_a1.code}/switch-to-paid").status_code == 200
    assert (
        api.delete(f"/clients/{client_a1.code}", headers={"HTTP_IF_MATCH": etag}).status_code == 412
    )
    assert Client.objects.filter(pk=client_a1.pk).exists()


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_updates_with_the_same_etag_at_once_one_wins(reseller_a):
    from hierarchy import services

    customer = services.create_customer(
        reseller_a, name="Race", contact_email="r@x.example", acting_user=None, origin="test"
    )
    secret = make_key(reseller_a, name="Racer")
    etag = KeyClient(DjangoClient(), secret).get(f"/customers/{customer.code}")["ETag"]
    days = iter(range(2, 100))
    lock = threading.Lock()

    def patch():
        with lock:
            trial_days = next(days)
        api = KeyClient(DjangoClient(), secret)
        answer = api.patch(
            f"/customers/{customer.code}",
            {"trial_days": trial_days},
            headers={"HTTP_IF_MATCH": etag},
        )
        return answer.status_code, trial_days

    results = _at_once(4, patch)
    assert sorted(status for status, _ in results) == [200, 412, 412, 412]
    winner = next(days for status, days in results if status == 200)
    customer.refresh_from_db()
    assert customer.trial_days == winner
    assert AuditEvent.objects.filter(action="customer.edited").count() == 1


# --- Rate limit -----------------------------------------------------------------------


def test_a_key_past_its_rate_limit_gets_429_with_retry_after(client, reseller_a, settings):
    settings.ADMIN_API_RATE_LIMIT = "3/min"
    busy = KeyClient(client, make_key(reseller_a, name="Busy"))
    calm = KeyClient(client, make_key(reseller_a, name="Calm"))
    assert [busy.get("/customers").status_code for _ in range(3)] == [200, 200, 200]
    limited = busy.get("/customers")
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert calm.get("/customers").status_code == 200  # per key


def test_a_keys_answers_older_than_a_day_are_forgotten(api):
    from datetime import timedelta

    from django.utils import timezone

    api.post("/customers", NEW_CUSTOMER, headers={"HTTP_IDEMPOTENCY_KEY": "old"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    api.post(
        "/customers", {**NEW_CUSTOMER, "name": "Newer"}, headers={"HTTP_IDEMPOTENCY_KEY": "new"}
    )
    assert list(IdempotentRequest.objects.values_list("idempotency_key", flat=True)) == ["new"]


@pytest.mark.parametrize("position", ["p=abc", "p=", "p=1e999", "o=5&p=x", "r=maybe"])
def test_a_forged_cursor_is_a_problem_not_a_500(api, client_a1, position):
    import base64

    cursor = base64.b64encode(position.encode()).decode()
    answer = api.get("/clients", {"cursor": cursor})
    assert answer.status_code in (200, 422), answer.status_code
    assert answer["Content-Type"] in ("application/json", "application/problem+json")
