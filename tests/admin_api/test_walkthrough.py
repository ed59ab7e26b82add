"""The README's curl session, through the API: create a customer, add a client, switch
it to paid, read its status; each write audited with the key's name."""

from clients.models import Client
from hierarchy.models import AuditEvent, Node


def test_create_customer_add_client_switch_to_paid(api, reseller_a):
    response = api.post(
        "/customers",
        {"name": "Globex", "contact_email": "it@globex.example", "auto_authorization": False},
    )
    assert response.status_code == 201, response.content
    customer = response.json()
    assert customer["name"] == "Globex"
    assert customer["reseller"] == str(reseller_a.code)
    assert customer["auto_authorization"] is False
    assert response["Location"].endswith(f"/api/v1/admin/customers/{customer['id']}")
    assert response["ETag"]

    response = api.post(
        "/clients",
        {
            "customer": customer["id"],
            "securecloud_id": "pc1@globex.example",
            "password": "S3cure-pass!",
        },
    )
    assert response.status_code == 201, response.content
    client = response.json()
    assert client["plan"] == "trial" and client["status"] == "pending"

    response = api.post(f"/clients/{client['id']}/switch-to-paid")
    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "paid"

    response = api.get(f"/clients/{client['id']}")
    assert response.status_code == 200
    assert response.json()["plan"] == "paid"
    assert response.json()["trial_ends_at"] is None

    stored = Client.objects.get(code=client["id"])
    assert stored.plan == Client.Plan.PAID
    assert Node.objects.get(code=customer["id"]).client_count == 1
    events = AuditEvent.objects.filter(origin="API key administrator key")
    assert set(events.values_list("action", flat=True)) >= {
        "customer.created",
        "client.created",
        "client.switched_to_paid",
    }
    assert {event.actor_label for event in events} == {"API key administrator key"}
    assert all(event.actor_id is None for event in events)


def test_validation_messages_are_the_services(api, customer_a1):
    response = api.post(
        "/clients", {"customer": str(customer_a1.code), "securecloud_id": "x@y.example"}
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["title"] == "Invalid input"
    assert "password" in problem["errors"]
    assert "auto-authorization is turned off" in problem["errors"]["password"][0].lower()
