"""The client's pane says what to enter when installing SecureCloud on its machine: the
server address, its SecureCloud ID, its password, and the customer's registration key
when the client has no password yet (its first connect needs the key)."""

import pytest
from django.urls import reverse

from clients import services
from hierarchy import services as hierarchy_services
from securecloud.site import site_url

pytestmark = pytest.mark.django_db


def pane(alice_client, client) -> str:
    response = alice_client.get(reverse("client-pane", args=[client.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_client_without_a_password_shows_the_registration_key(alice_client, customer_a_east):
    waiting = services.create_client(
        customer_a_east, securecloud_id="waiting@east.example", acting_user=None, origin="test"
    )
    page = pane(alice_client, waiting)
    assert f'<code id="server-address">{site_url()}</code>' in page
    assert '<code id="securecloud-id">waiting@east.example</code>' in page
    assert customer_a_east.registration_key in page
    assert "the first connect sets it" in page
    assert "cannot connect until" not in page


def test_a_client_with_a_password_needs_no_key(alice_client, client_a1, customer_a1):
    page = pane(alice_client, client_a1)
    assert f'<code id="server-address">{site_url()}</code>' in page
    assert "The password set for this client" in page
    assert customer_a1.registration_key not in page


def test_a_client_that_cannot_connect_yet_says_why(alice_client, alice, customer_a_east):
    waiting = services.create_client(
        customer_a_east, securecloud_id="waiting@east.example", acting_user=None, origin="test"
    )
    hierarchy_services.set_auto_authorization(
        customer_a_east, False, acting_user=alice, origin="test"
    )
    page = pane(alice_client, waiting)
    assert "this client cannot connect until you set its password below" in page
