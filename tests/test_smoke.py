from hierarchy import memberships


def test_signed_out_visitor_is_sent_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_alice_sees_her_reseller_on_the_console_home(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert "Alpha Backup" in response.content.decode()


def test_a_long_user_name_cut_short_in_the_navbar_shows_whole_on_hover(client, reseller_a):
    name = "a-very-long-login-name-of-an-msp-admin@example.com"
    user = memberships.add_reseller_admin(
        reseller_a,
        username=name,
        email="x@example.com",
        password="Long-Name-Admin-2026",
        acting_user=None,
        origin="test",
    ).user
    client.force_login(user)
    assert f'title="{name}: your account"' in client.get("/").content.decode()
