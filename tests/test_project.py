"""Project-wide guarantees: checks pass, migrations are complete, every page carries the CSP."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse


def test_django_system_checks_pass(db):
    call_command("check", fail_level="WARNING", stdout=StringIO())


def test_no_migrations_are_missing(db):
    # --check exits non-zero when a model change has no migration.
    call_command("makemigrations", check=True, dry_run=True, stdout=StringIO())


def _assert_strict_csp(response):
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/healthz", "/"])
def test_every_public_page_carries_the_strict_csp(client, db, path):
    _assert_strict_csp(client.get(path))


def test_console_and_admin_pages_carry_the_strict_csp(alice_client, root_client, customer_a1):
    _assert_strict_csp(alice_client.get("/"))
    _assert_strict_csp(root_client.get("/admin/"))
    _assert_strict_csp(root_client.get("/admin/hierarchy/customer/"))
    _assert_strict_csp(root_client.get(f"/admin/hierarchy/customer/{customer_a1.pk}/change/"))


def test_pages_have_no_inline_scripts_or_styles(alice_client):
    html = alice_client.get("/").content.decode()
    assert " style=" not in html
    assert "<script>" not in html and "<style" not in html
    for chunk in html.split("<script")[1:]:
        assert chunk.lstrip().startswith("src=") or " src=" in chunk.split(">", 1)[0]


def test_healthz_answers_ok_when_the_database_is_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.post("/healthz").status_code == 405


def test_static_assets_are_served_by_the_app(client, db):
    for path in ["bootstrap/css/bootstrap.min.css", "django_htmx/htmx-2.min.js", "css/console.css"]:
        response = client.get("/static/" + path)
        assert response.status_code == 200, path


def test_sign_in_takes_the_admin_to_the_console_home(client, alice):
    from tests.conftest import PASSWORD

    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("console-home")
    assert client.get("/").status_code == 200


def test_unknown_pages_answer_the_consoles_own_404(alice_client):
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing here, or nothing that your login may see." in (
        response.content.decode()
    )


def test_head_requests_work_like_get(alice_client, client, db):
    assert alice_client.head("/").status_code == 200
    assert client.head("/healthz").status_code == 200


def test_an_expired_form_gets_a_clear_page(alice, reseller_a):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post(f"/resellers/{reseller_a.code}/customers/new/", {"name": "X"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_template_comments_in_braces_stay_on_one_line():
    # Django's {# ... #} ends at the line's end: a second line prints the comment as
    # text on the page (it happened twice). Longer comments use {% comment %}.
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    broken = [
        f"{path.relative_to(templates)}:{number}"
        for path in sorted(templates.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert broken == []
