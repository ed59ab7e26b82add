"""What an import changes shows in each object's History, as a change made in the
console does: one event per object, with the old and new values, and "added" for what
the import created. The import's run keeps its own event on the reseller's History."""

from clients.models import AgentToken, Client
from hierarchy.models import Node
from tests.imports.helpers import run_csv
from tests.test_history_pages import history_html, row_with

CLIENTS = "securecloud_id,customer,name,email,password,plan,status\n"
CUSTOMERS = "name,contact_email,usage_space,trial_days\n"


def test_a_client_changed_by_import_clients_update_shows_old_and_new_values(
    alice_client, client_a1, customer_a1, tmp_path
):
    text = CLIENTS + "a1@acme.example,Acme,Ann's new laptop,ann@acme.example,,paid,disabled\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err

    html = history_html(alice_client, "clients", client_a1.code)

    row = row_with(html, "Client details changed")
    assert "Name: Ann's laptop → Ann's new laptop" in row
    assert "Email: — → ann@acme.example" in row
    assert "Plan: Trial → Paid" in row
    assert "Status: Pending → Disabled" in row
    assert "Server command" in row and "Command import_clients" in row
    # Still there: the one-object events from before the import.
    row_with(html, "Client added")


def test_a_client_moved_and_given_a_password_by_import_shows_both(
    alice_client, client_a1, customer_a1, customer_a_east, tmp_path
):
    AgentToken.objects.create(client=client_a1, digest="x" * 64)
    text = CLIENTS.replace(",plan,status", ",reseller") + (
        "a1@acme.example,East Widgets,Ann's laptop,,new-long-pass-1,Alpha East\n"
    )
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err

    html = history_html(alice_client, "clients", client_a1.code)

    assert "Customer: Acme → East Widgets" in row_with(html, "Client details changed")
    row_with(html, "Password reset")
    assert "new-long-pass-1" not in html
    # The rules of the one-object services: tokens revoked, storage totals moved.
    assert not AgentToken.objects.filter(client=client_a1).exists()
    customer_a1.refresh_from_db()
    customer_a_east.refresh_from_db()
    assert (customer_a1.client_count, customer_a_east.client_count) == (0, 1)


def test_clients_created_by_import_show_as_added(alice_client, customer_a1, tmp_path):
    text = CLIENTS + "new-one@acme.example,Acme,Bench,,long-enough-1,,\n"
    assert run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup").ok

    created = Client.objects.get(securecloud_id="new-one@acme.example")
    html = history_html(alice_client, "clients", created.code)

    row = row_with(html, "Client added")
    assert "Name: Bench" in row and "Plan: Trial" in row and "Status: Pending" in row
    customer_a1.refresh_from_db()
    assert customer_a1.client_count == 1


def test_a_customer_changed_by_import_customers_update_shows_old_and_new_values(
    alice_client, customer_a1, tmp_path
):
    text = CUSTOMERS + "Acme,it@acme.example,100GB,45\n"
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err

    html = history_html(alice_client, "customers", customer_a1.code)

    row = row_with(html, "Customer settings changed")
    assert "Usage space: 50 GB → 100 GB" in row
    assert "Trial length (days): 30 → 45" in row
    assert "Command import_customers" in row


def test_customers_created_by_import_show_as_added(alice_client, reseller_a, tmp_path):
    text = CUSTOMERS + "Newco,it@newco.example,,\n"
    assert run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup").ok

    newco = Node.objects.get(name="Newco")
    html = history_html(alice_client, "customers", newco.code)

    row = row_with(html, "Customer added")
    assert "Usage space: 10 GB" in row and "Trial length (days): 30" in row
    assert newco.registration_key and len(newco.registration_key) == 32
    # The run itself stays on the reseller's History.
    row_with(history_html(alice_client, "resellers", reseller_a.code), "Customers imported")


def test_a_reseller_moved_by_import_resellers_update_shows_the_move(
    alice_client, reseller_a, sub_reseller_a, tmp_path
):
    text = "name,parent\nAlpha West,\nAlpha East,Alpha West\n"
    result = run_csv("import_resellers", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err

    html = history_html(alice_client, "resellers", sub_reseller_a.code)

    row = row_with(html, "Reseller moved to another reseller")
    assert "Parent reseller: Alpha Backup → Alpha West" in row
