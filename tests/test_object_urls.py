"""The tree builds its links from URLs reversed once (securecloud.console.shell):
they must be exactly what reverse() gives, under a script prefix too."""

import uuid

import pytest
from django.urls import reverse, set_script_prefix

from securecloud.console.shell import object_url


@pytest.mark.parametrize("name", ["reseller-pane", "customer-pane", "client-pane", "tree-children"])
def test_an_object_url_is_what_reverse_gives(name):
    code = uuid.uuid4()
    assert object_url(name, code) == reverse(name, args=[code])


def test_an_object_url_follows_the_script_prefix():
    code = uuid.uuid4()
    try:
        set_script_prefix("/console/")
        assert object_url("customer-pane", code) == f"/console/customers/{code}/"
        assert object_url("customer-pane", code) == reverse("customer-pane", args=[code])
    finally:
        set_script_prefix("/")
    assert object_url("customer-pane", code) == f"/customers/{code}/"
