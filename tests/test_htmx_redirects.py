"""htmx requests that must leave the page: a signed-out (or not yet verified) request is
told to load the sign-in page as a whole page, and to come back to where the person was."""

import pytest

from hierarchy import services
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def on_page(path: str) -> dict:
    return {**HTMX, "HTTP_HX_CURRENT_URL": f"http://testserver{path}"}


def test_signed_out_tree_expand_loads_the_sign_in_page_whole(client, customer_a1):
    page = f"/customers/{customer_a1.code}/"
    response = client.get(f"/tree/{customer_a1.code}/", **on_page(page))
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/login/?next=%2Fcustomers%2F{customer_a1.code}%2F"
    assert response.content == b""


def test_signed_out_pane_request_comes_back_to_the_page_not_the_fragment(client, customer_a1):
    response = client.get(f"/customers/{customer_a1.code}/", **on_page("/"))
    assert response["HX-Redirect"] == "/login/?next=%2F"


def test_another_sites_current_url_is_not_a_place_to_come_back_to(client, customer_a1):
    response = client.get(
        f"/tree/{customer_a1.code}/", **HTMX, HTTP_HX_CURRENT_URL="https://evil.example/x"
    )
    assert response["HX-Redirect"] == "/login/?next=%2F"


def test_without_htmx_the_redirect_is_the_usual_one(client, customer_a1):
    response = client.get(f"/customers/{customer_a1.code}/")
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/customers/{customer_a1.code}/"
    assert "HX-Redirect" not in response


def test_a_form_that_redirects_to_its_result_still_redirects(alice_client, customer_a1):
    response = alice_client.post(
        f"/customers/{customer_a1.code}/auto-authorization/",
        **on_page(f"/customers/{customer_a1.code}/"),
        HTTP_HX_BOOSTED="true",
    )
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer_a1.code}/"
    assert "HX-Redirect" not in response


def test_an_unverified_second_factor_loads_the_verify_page_whole(client, alice, reseller_a):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    page = f"/resellers/{reseller_a.code}/"
    response = client.get(f"/tree/{reseller_a.code}/", **on_page(page))
    assert (
        response["HX-Redirect"] == f"/account/2fa/verify/?next=%2Fresellers%2F{reseller_a.code}%2F"
    )


def test_a_required_but_missing_second_factor_loads_the_setup_page_whole(client, alice, reseller_a):
    services.set_two_factor_policy(reseller_a, required=True, acting_user=None, origin="test")
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    response = client.get("/search/?q=acme", **on_page("/"))
    assert response["HX-Redirect"] == "/account/2fa/setup/?next=%2F"
