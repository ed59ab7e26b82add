"""A new client password holds no control character (a null character, an escape, a
line break), wherever it is set: the console's forms, the Django admin, the services
and the agent's first connect. One rule, in the services' password check."""

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients import services
from clients.models import Client
from clients.validators import PASSWORD_CONTROL
from tests.agent.conftest import Agent

pytestmark = pytest.mark.django_db

CONTROLS = ["nul\x00in-the-middle", "escape\x1b[31mred", "line\nbreak-inside", "del\x7fete-me"]


@pytest.mark.parametrize("password", CONTROLS)
def test_the_services_refuse_control_characters(customer_a1, client_a1, password):
    with pytest.raises(ValidationError) as caught:
        services.create_client(
            customer_a1,
            securecloud_id="nul@acme.example",
            password=password,
            acting_user=None,
            origin="test",
        )
    assert caught.value.message_dict == {"password": [PASSWORD_CONTROL]}
    with pytest.raises(ValidationError) as caught:
        services.set_client_password(client_a1, password, acting_user=None, origin="test")
    assert caught.value.message_dict == {"password": [PASSWORD_CONTROL]}
    client_a1.refresh_from_db()
    assert check_password("client-pass-1", client_a1.password)


def test_the_agents_first_connect_refuses_a_nul_in_the_password(client, customer_a_east):
    agent = Agent(client)
    key = customer_a_east.registration_key
    response = agent.connect("nul@east.example", "first\x00connect", key)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "fields": {"password": PASSWORD_CONTROL}}
    assert not Client.objects.filter(securecloud_id="nul@east.example").exists()
    # A client added in the console without a password, claimed by its first connect.
    services.create_client(
        customer_a_east, securecloud_id="waiting@east.example", acting_user=None, origin="test"
    )
    response = agent.connect("waiting@east.example", "claim\x00it-now", key)
    assert response.status_code == 400
    assert Client.objects.get(securecloud_id="waiting@east.example").password == ""


def test_the_console_forms_refuse_control_characters(alice_client, customer_a1, client_a1):
    password = "escape\x1b[31mred"
    response = alice_client.post(
        reverse("client-add", args=[customer_a1.code]),
        {"securecloud_id": "esc@acme.example", "password": password, "password2": password},
    )
    assert response.status_code == 200
    assert not Client.objects.filter(securecloud_id="esc@acme.example").exists()
    response = alice_client.post(
        reverse("client-reset-password", args=[client_a1.code]),
        {"password": password, "password2": password},
    )
    assert response.status_code == 200
    client_a1.refresh_from_db()
    assert check_password("client-pass-1", client_a1.password)


def test_the_django_admin_refuses_control_characters(root_client, customer_a1):
    response = root_client.post(
        reverse("admin:clients_client_add"),
        {
            "customer": customer_a1.pk,
            "securecloud_id": "esc@acme.example",
            "name": "",
            "email": "",
            "password": "escape\x1b[31mred",
        },
    )
    assert response.status_code == 200
    assert PASSWORD_CONTROL in response.content.decode()
    assert not Client.objects.filter(securecloud_id="esc@acme.example").exists()
