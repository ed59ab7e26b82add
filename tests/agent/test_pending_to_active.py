"""Pending → active: one rule, asked by an agent's connect and by Enable in the console."""

from clients import services
from clients.models import Client


def test_a_client_is_active_once_its_agent_connects_and_stays_so_when_enabled_again(
    agent, alice, customer_a1, client_a1
):
    never_connected = services.create_client(
        customer_a1,
        securecloud_id="a2@acme.example",
        password="client-pass-2",
        acting_user=alice,
        origin="test",
    )
    assert client_a1.status == Client.Status.PENDING
    agent.token("a1@acme.example", "client-pass-1")
    client_a1.refresh_from_db()
    assert client_a1.status == Client.Status.ACTIVE
    for client, status in (
        (client_a1, Client.Status.ACTIVE),
        (never_connected, Client.Status.PENDING),
    ):
        services.disable_client(client, acting_user=alice, origin="test")
        services.enable_client(client, acting_user=alice, origin="test")
        client.refresh_from_db()
        assert client.status == status  # active if it has ever connected, else pending
