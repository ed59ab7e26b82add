"""Bad input never raises: property-based tests of the parsers and the importer, and
hostile values in the console's forms (always a form error or a success, never a 500,
and escaped wherever they are shown)."""

import string
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.models import Client
from clients.validators import normalise_securecloud_id
from hierarchy.models import Node
from hierarchy.validators import parse_usage_space
from securecloud.accounts.models import Invitation

ID_CHARS = set(string.ascii_lowercase + string.digits + "._-@+")


@given(st.text(max_size=300))
def test_the_securecloud_id_normaliser_accepts_only_valid_ids(text):
    try:
        normalised = normalise_securecloud_id(text)
    except ValidationError:
        return
    assert 3 <= len(normalised) <= 254
    assert set(normalised) <= ID_CHARS
    assert normalised == text.strip().lower()
    assert normalise_securecloud_id(normalised.upper()) == normalised


@given(st.text(max_size=40))
def test_the_usage_space_parser_returns_bytes_or_a_validation_error(text):
    try:
        size = parse_usage_space(text)
    except ValidationError:
        return
    assert size is None or (isinstance(size, int) and size > 0)


@given(
    st.decimals(min_value="0.001", max_value="999999", places=3),
    st.sampled_from(["MB", "GB", "TB", "mb", "gb", "tb"]),
)
def test_the_usage_space_parser_reads_decimal_units(number, unit):
    factor = {"MB": 10**6, "GB": 10**9, "TB": 10**12}[unit.upper()]
    assert parse_usage_space(f"{number} {unit}") == int(number * factor)


CSV_ALPHABET = st.characters(codec="utf-8", exclude_categories=["Cs"])


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.sampled_from(
        [
            "name,contact_email",
            "NAME;Contact_Email;usage_space",
            "name,contact_email,auto_add_clients,trial_days",
            "bogus",
            "",
        ]
    ),
    body=st.text(CSV_ALPHABET, max_size=400),
)
def test_the_customer_importer_answers_random_files_with_a_clear_error_or_success(
    reseller_a, tmp_path_factory, header, body
):
    path = tmp_path_factory.mktemp("csv") / "customers.csv"
    path.write_text(header + "\n" + body, encoding="utf-8")
    before = Node.objects.count()
    try:
        call_command(
            "import_customers",
            str(path),
            "--reseller",
            reseller_a.name,
            stdout=StringIO(),
            stderr=StringIO(),
        )
    except CommandError as exc:
        assert str(exc).strip()
        assert Node.objects.count() == before  # all or nothing


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300))
def test_the_client_importer_answers_random_bytes_with_a_clear_error_or_success(
    customer_a1, tmp_path_factory, body
):
    path = tmp_path_factory.mktemp("csv") / "clients.csv"
    path.write_bytes(b"securecloud_id,customer,password\n" + body)
    before = Client.objects.count()
    try:
        call_command(
            "import_clients",
            str(path),
            "--reseller",
            "Alpha Backup",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    except CommandError as exc:
        assert str(exc).strip()
        assert Client.objects.count() == before


HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "Ünïcødé Kunde 顧客 🚀",
    "x" * 5000,
    "tab\tand\nnewline\x00nul",
    "\u202eevil\u202c",
    "' OR 1=1 --",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_the_customer_form_get_a_form_error_or_are_stored_escaped(
    alice_client, reseller_a, value
):
    response = alice_client.post(
        reverse("customer-add", args=[reseller_a.code]),
        {
            "name": value,
            "contact_name": value,
            "contact_email": "ok@example.com",
            "usage_space_bytes": str(10 * 10**9),
            "trial_days": "30",
        },
    )
    assert response.status_code in {200, 302}
    html = alice_client.get(reverse("console-home")).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    customer = Node.objects.customers().filter(parent=reseller_a).first()
    if response.status_code == 302:
        assert customer is not None and customer.name == value.strip()
        pane = alice_client.get(reverse("customer-pane", args=[customer.code])).content.decode()
        assert "<script>alert" not in pane and "<img src=x" not in pane
    else:
        assert customer is None
        assert 'class="invalid-feedback' in response.content.decode() or "alert-danger" in (
            response.content.decode()
        )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_the_client_form_and_search(alice_client, customer_a1, value):
    response = alice_client.post(
        reverse("client-add", args=[customer_a1.code]),
        {
            "securecloud_id": value,
            "name": value,
            "email": value,
            "password": "pw-123456789",
            "password2": "pw-123456789",
        },
    )
    assert response.status_code == 200  # the ID is invalid: errors inline, nothing created
    assert not Client.objects.exists()
    assert "<script>alert" not in response.content.decode()
    response = alice_client.get(reverse("search"), {"q": value})
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()


def test_a_non_numeric_page_or_sort_never_breaks_a_listing(alice_client, reseller_a, customer_a1):
    for query in (
        {"page": "abc"},
        {"page": "-5"},
        {"page": "99999999999999999999"},
        {"sort": "<x>"},
        {"sort": "password"},
        {"page": "1\x00"},
    ):
        assert alice_client.get(reverse("console-home"), query).status_code == 200
        assert (
            alice_client.get(reverse("customer-pane", args=[customer_a1.code]), query).status_code
            == 200
        )


def test_control_characters_in_the_move_search_are_ignored(alice_client, client_a1):
    response = alice_client.get(reverse("client-move", args=[client_a1.code]), {"q": "Ac\x00me"})
    assert response.status_code == 200
    assert "Acme" in response.content.decode()


LONG_EMAIL = "a" * 300 + "@b.example"


def test_overlong_emails_are_form_errors_everywhere(alice_client, reseller_a, customer_a1):

    forms = [
        (
            reverse("customer-add", args=[reseller_a.code]),
            {
                "name": "Long",
                "contact_email": LONG_EMAIL,
                "usage_space_bytes": str(10 * 10**9),
                "trial_days": "30",
            },
        ),
        (
            reverse("customer-edit", args=[customer_a1.code]),
            {
                "name": "Acme",
                "contact_email": LONG_EMAIL,
                "usage_space_bytes": str(10 * 10**9),
                "trial_days": "30",
            },
        ),
        (
            reverse("client-add", args=[customer_a1.code]),
            {
                "securecloud_id": "long@acme.example",
                "email": LONG_EMAIL,
                "password": "pw-123456789",
                "password2": "pw-123456789",
            },
        ),
        (
            reverse("admin-add", args=[reseller_a.code]),
            {"email": LONG_EMAIL},
        ),
    ]
    for url, data in forms:
        response = alice_client.post(url, data)
        assert response.status_code == 200, url
        assert "254 characters" in response.content.decode(), url
    customer_a1.refresh_from_db()
    assert customer_a1.contact_email == "it@acme.example"
    assert not Client.objects.exists()
    assert not Invitation.objects.exists()


def test_overlong_emails_and_hashes_are_import_errors(reseller_a, customer_a1, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text(f"name,contact_email\nLong,{LONG_EMAIL}\n")
    errors = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_customers",
            str(customers),
            "--reseller",
            reseller_a.name,
            stdout=StringIO(),
            stderr=errors,
        )
    assert "line 2, contact_email: An email address has at most 254 characters." in (
        errors.getvalue()
    )
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "securecloud_id,customer,email,password_hash\n"
        f"x1@acme.example,Acme,{LONG_EMAIL},\n"
        f"x2@acme.example,Acme,,pbkdf2_sha256$1000$salt${'A' * 400}\n"
    )
    errors = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_clients",
            str(clients),
            "--reseller",
            reseller_a.name,
            stdout=StringIO(),
            stderr=errors,
        )
    assert "line 2, email: An email address has at most 254 characters." in errors.getvalue()
    assert "line 3, password_hash: A password hash has at most 256 characters." in (
        errors.getvalue()
    )
    assert not Client.objects.exists()


def test_a_huge_tree_page_is_an_empty_page_not_an_error(alice_client, customer_a1, client_a1):
    for page in ["99999999999999999999999", "9223372036854775807", "-3", "x"]:
        for code in (customer_a1.code, customer_a1.parent.code):
            url = reverse("tree-children", args=[code]) + "?page=" + page
            assert alice_client.get(url, HTTP_HX_REQUEST="true").status_code == 200, page
            assert alice_client.get(url).status_code == 302, page
