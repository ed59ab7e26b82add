"""Every write names who acts and from where, and the rules live in the services: the
console, the Django admin, the commands and the agent API all get the same answer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from clients import services as client_services
from clients.models import Client
from hierarchy import memberships, services
from hierarchy.models import AuditEvent, Node
from tests.conftest import PASSWORD


def test_a_write_without_an_origin_is_refused(alice, customer_a1, client_a1):
    with pytest.raises(TypeError):
        services.update_customer(customer_a1, acting_user=alice, name="No origin")
    with pytest.raises(TypeError):
        client_services.disable_client(client_a1, origin="test")
    with pytest.raises(ValueError):
        services.update_customer(customer_a1, acting_user=alice, origin="", name="Blank")
    with pytest.raises(ValueError):
        client_services.disable_client(client_a1, acting_user=alice, origin="  ")
    customer_a1.refresh_from_db()
    client_a1.refresh_from_db()
    assert customer_a1.name != "Blank" and client_a1.status != Client.Status.DISABLED
    assert not AuditEvent.objects.filter(origin__in=["", "  "]).exists()


def test_an_admin_cannot_rename_her_top_level_reseller_through_the_service(alice, reseller_a, root):
    with pytest.raises(PermissionDenied, match="changed by the server's operator"):
        services.rename_reseller(reseller_a, "Alpha Prime", acting_user=alice, origin="test")
    reseller_a.refresh_from_db()
    assert reseller_a.name == "Alpha Backup"
    # The operator may: a superuser, or a command (no login).
    services.rename_reseller(reseller_a, "Alpha Prime", acting_user=root, origin="test")
    services.rename_reseller(
        reseller_a, "Alpha Again", acting_user=None, origin="command rename_reseller"
    )
    reseller_a.refresh_from_db()
    assert reseller_a.name == "Alpha Again"


def test_the_console_shows_the_services_refusal_of_a_top_level_rename(alice_client, reseller_a):
    url = reverse("reseller-edit", args=[reseller_a.code])
    pane = reverse("reseller-pane", args=[reseller_a.code])
    for response in (
        alice_client.get(url, follow=True),
        alice_client.post(url, {"name": "Alpha Prime"}, follow=True),
    ):
        assert response.redirect_chain[-1][0] == pane
        assert "The name of a top-level reseller is changed by the server" in (
            response.content.decode()
        )
    assert Node.objects.get(pk=reseller_a.pk).name == "Alpha Backup"


def test_add_reseller_admin_makes_and_returns_a_one_time_password(
    alice, reseller_a, django_user_model
):
    added = memberships.add_reseller_admin(
        reseller_a,
        username="carol",
        email="carol@alpha.example",
        password=memberships.FirstSignIn.ONE_TIME_PASSWORD,
        acting_user=alice,
        origin="test",
    )
    assert added.one_time_password
    carol = django_user_model.objects.get(username="carol")
    assert added.user == carol
    assert carol.check_password(added.one_time_password)
    other = memberships.add_reseller_admin(
        reseller_a,
        username="dave",
        password=memberships.FirstSignIn.ONE_TIME_PASSWORD,
        acting_user=alice,
        origin="test",
    )
    assert other.one_time_password != added.one_time_password


def test_an_admin_chosen_password_or_an_email_link_returns_no_one_time_password(alice, reseller_a):
    chosen = memberships.add_reseller_admin(
        reseller_a, username="erin", password=PASSWORD, acting_user=alice, origin="test"
    )
    assert chosen.one_time_password is None and chosen.user.check_password(PASSWORD)
    linked = memberships.add_reseller_admin(
        reseller_a,
        username="frank",
        email="frank@alpha.example",
        password=memberships.FirstSignIn.EMAIL_LINK,
        acting_user=alice,
        origin="test",
    )
    assert linked.one_time_password is None and not linked.user.has_usable_password()


def test_an_email_link_sign_in_needs_an_email_address(alice, reseller_a, django_user_model):
    with pytest.raises(ValidationError) as refused:
        memberships.add_reseller_admin(
            reseller_a,
            username="gina",
            password=memberships.FirstSignIn.EMAIL_LINK,
            acting_user=alice,
            origin="test",
        )
    assert refused.value.message_dict == {"email": ["Enter an email address to send the link to."]}
    assert not django_user_model.objects.filter(username="gina").exists()
