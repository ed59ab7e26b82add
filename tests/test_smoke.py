def test_signed_out_visitor_is_sent_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_alice_sees_her_reseller_on_the_console_home(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert "Alpha Backup" in response.content.decode()
