"""The cast every test uses.

- Alpha Backup (reseller A), administered by **alice**, with customer **Acme** (A1)
  holding client **a1@acme.example**, and a sub-reseller **Alpha East** administered by
  **sam** with its own customer **East Widgets**.
- Bravo Storage (reseller B), administered by **bob**, with customer **Bolt** and client
  **b1@bolt.example**: nothing of Bravo's may ever be visible to alice or sam, and
  nothing of Alpha's to bob.
- **root**, a superuser with no reseller.
"""

import pytest
from django.contrib.auth import get_user_model

from clients import services as client_services
from hierarchy import memberships, services
from hierarchy.models import GB

PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def test_settings(settings):
    # Argon2 is deliberately slow; tests that measure it ask for it explicitly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production serves hashed file names from collectstatic's manifest; tests have none.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = None  # whitenoise serves through the finders instead


@pytest.fixture
def reseller_a(db):
    return services.create_reseller(None, name="Alpha Backup", acting_user=None, origin="test")


@pytest.fixture
def customer_a1(reseller_a):
    return services.create_customer(
        reseller_a,
        name="Acme",
        contact_name="Ann Acme",
        contact_email="it@acme.example",
        usage_space_bytes=50 * GB,
        auto_add_clients=False,
        email_reports=True,
        acting_user=None,
        origin="test",
    )


@pytest.fixture
def client_a1(customer_a1):
    return client_services.create_client(
        customer_a1,
        securecloud_id="a1@acme.example",
        name="Ann's laptop",
        password="client-pass-1",
        acting_user=None,
        origin="test",
    )


@pytest.fixture
def sub_reseller_a(reseller_a):
    return services.create_reseller(reseller_a, name="Alpha East", acting_user=None, origin="test")


@pytest.fixture
def customer_a_east(sub_reseller_a):
    return services.create_customer(
        sub_reseller_a,
        name="East Widgets",
        contact_email="it@eastwidgets.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )


@pytest.fixture
def reseller_b(db):
    return services.create_reseller(None, name="Bravo Storage", acting_user=None, origin="test")


@pytest.fixture
def customer_b1(reseller_b):
    return services.create_customer(
        reseller_b,
        name="Bolt",
        contact_email="it@bolt.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )


@pytest.fixture
def client_b1(customer_b1):
    return client_services.create_client(
        customer_b1,
        securecloud_id="b1@bolt.example",
        password="client-pass-2",
        acting_user=None,
        origin="test",
    )


@pytest.fixture
def alice(reseller_a):
    return memberships.add_reseller_admin(
        reseller_a,
        username="alice",
        email="alice@alpha.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user


@pytest.fixture
def sam(sub_reseller_a):
    return memberships.add_reseller_admin(
        sub_reseller_a,
        username="sam",
        email="sam@alpha-east.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user


@pytest.fixture
def bob(reseller_b):
    return memberships.add_reseller_admin(
        reseller_b,
        username="bob",
        email="bob@bravo.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@localhost", PASSWORD)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client
