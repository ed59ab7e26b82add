"""The portal's cast: **carol**, a customer user of Acme (Alpha Backup's customer)."""

import pytest

from hierarchy import memberships
from tests.conftest import PASSWORD


@pytest.fixture
def carol(customer_a1):
    return memberships.add_customer_user(
        customer_a1,
        username="carol",
        email="carol@acme.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    ).user


@pytest.fixture
def carol_client(client, carol):
    client.force_login(carol)
    return client
