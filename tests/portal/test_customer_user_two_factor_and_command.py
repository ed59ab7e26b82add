"""A reseller's two-factor policy reaches its customer users only when it asks for it;
create_customer_user gives a customer its own login."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from hierarchy import customer_user_settings, services
from hierarchy.models import Membership
from securecloud.accounts.twofactor import two_factor_required


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_the_resellers_policy_skips_customer_users_unless_asked(carol, alice, reseller_a):
    services.set_two_factor_policy(reseller_a, True, acting_user=None, origin="test")
    assert two_factor_required(_fresh(alice))
    assert not two_factor_required(_fresh(carol))
    customer_user_settings.set_customer_user_settings(
        reseller_a,
        customers_may_add_clients=False,
        require_two_factor_customer_users=True,
        acting_user=None,
        origin="test",
    )
    assert two_factor_required(_fresh(carol))


def test_asking_it_of_customer_users_alone_requires_nothing(carol, reseller_a):
    """The second box extends the policy; without the policy it requires nothing."""
    customer_user_settings.set_customer_user_settings(
        reseller_a,
        customers_may_add_clients=False,
        require_two_factor_customer_users=True,
        acting_user=None,
        origin="test",
    )
    assert not two_factor_required(_fresh(carol))


def test_a_customer_user_who_must_use_two_factor_sets_it_up(client, carol, reseller_a):
    services.set_two_factor_policy(reseller_a, True, acting_user=None, origin="test")
    customer_user_settings.set_customer_user_settings(
        reseller_a,
        customers_may_add_clients=False,
        require_two_factor_customer_users=True,
        acting_user=None,
        origin="test",
    )
    client.force_login(carol)
    assert client.get("/")["Location"].startswith("/account/2fa/setup/")


def _run(*args):
    out = StringIO()
    call_command("create_customer_user", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_customer_user_gives_a_customer_its_login(customer_a1, monkeypatch):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    output = _run(
        "--reseller", "alpha backup", "--customer", "ACME", "--username", "ann", "--noinput"
    )
    assert "Created customer user ann for customer Acme" in output
    user = get_user_model().objects.get(username="ann")
    assert user.check_password("A-good-pass-2026")
    assert user.membership.reseller == customer_a1
    assert user.membership.role == Membership.Role.CUSTOMER


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reseller", "Nobody", "--customer", "Acme"], "No reseller is named"),
        (["--reseller", "Alpha Backup", "--customer", "Bolt"], "has no customer named"),
        (["--reseller", "Alpha Backup", "--customer", "Acme", "--email", "x"], "email"),
    ],
)
def test_create_customer_user_refuses_clearly(customer_a1, customer_b1, monkeypatch, args, message):
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "A-good-pass-2026")
    with pytest.raises(CommandError, match=message):
        _run(*args, "--username", "ann", "--noinput")
    assert not get_user_model().objects.filter(username="ann").exists()


def test_create_customer_user_without_the_password_says_so(customer_a1, monkeypatch):
    monkeypatch.delenv("RESELLER_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="RESELLER_ADMIN_PASSWORD"):
        _run("--reseller", "Alpha Backup", "--customer", "Acme", "--username", "ann", "--noinput")
