import pytest

from tests.email.backends import FailingBackend


@pytest.fixture
def refuse(settings):
    """Make the mail server refuse the given addresses: `refuse("it@acme.example")`."""
    settings.EMAIL_BACKEND = "tests.email.backends.FailingBackend"
    FailingBackend.refused = set()

    def refuse_addresses(*addresses):
        FailingBackend.refused = {address.lower() for address in addresses}

    yield refuse_addresses
    FailingBackend.refused = set()
