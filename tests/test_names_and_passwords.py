"""Names show as written and passwords have no invisible edges, wherever they are entered:
the console's forms, the services, the imports and the agent API. Also: the Add New Client
form says a password is required once as its notice and once as the error, and no console
form marks required fields with an asterisk (labels are the product's words)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from clients import services as client_services
from clients.models import Client
from clients.services import PASSWORD_REQUIRED
from clients.validators import validate_client_password
from hierarchy import services
from hierarchy.models import Node
from hierarchy.validators import clean_name
from tests.agent.conftest import Agent
from tests.imports.helpers import run_csv

NOT_VISIBLE = "Enter a name with visible characters."
INVISIBLE = "A name cannot contain invisible or text-direction control characters."
INVISIBLE_EDGE = "A name cannot start or end with an invisible character."
CONTROL = "A name cannot contain control characters."
ONLY_SPACES = "A password cannot be only spaces."
EDGE_SPACE = "Passwords cannot start or end with a space."

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: shows what follows it backwards
ZWSP = "\u200b"  # ZERO WIDTH SPACE
ZWNJ, ZWJ = "\u200c", "\u200d"


def text(response) -> str:
    return response.content.decode()


def field_errors(page: str, field: str) -> str:
    """The text of the field's error block (empty when it has none)."""
    block = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>', page, re.S
    )
    return re.sub(r"<[^>]+>", "", block.group(1)) if block else ""


# --- The rule -------------------------------------------------------------------------


def message_of(value: str, **options) -> str:
    with pytest.raises(ValidationError) as caught:
        clean_name(value, **options)
    return caught.value.message_dict["name"][0]


@pytest.mark.parametrize(
    "value",
    [
        ZWSP + ZWSP,  # the customer that showed as a blank row
        ZWSP,  # the sub-reseller that did
        f"{ZWNJ}{ZWJ} \ufeff\u2060",  # joiners, spaces, byte order mark, word joiner
        "\u3164",  # HANGUL FILLER: a "letter" that draws nothing
        "\u2800\u2800",  # BRAILLE PATTERN BLANK
        RLO,
    ],
)
def test_a_name_needs_a_visible_character(value):
    assert message_of(value) == NOT_VISIBLE
    # Also where a name may be empty (a client's or a contact's): empty, or visible.
    assert message_of(value, required=False) == NOT_VISIBLE
    assert clean_name("  ", required=False) == ""


@pytest.mark.parametrize(
    "control",
    ["\u202a", "\u202b", "\u202c", "\u202d", RLO, "\u2066", "\u2067", "\u2068", "\u2069"]
    + ["\u200e", "\u200f", "\u061c"],  # direction marks
)
def test_text_direction_controls_are_refused(control):
    assert message_of(f"Acme {control}LTD") == INVISIBLE
    assert message_of(f"{control}Acme") == INVISIBLE


@pytest.mark.parametrize(
    "invisible",
    [ZWSP, "\u2060", "\ufeff"]
    # soft hyphen, combining grapheme joiner, a tag outside a flag, Mongolian vowel
    # separator, Hangul filler: each also makes a second "Acme"
    + ["\u00ad", "\u034f", "\U000e0041", "\u180e", "\u3164"],
)
def test_invisible_characters_that_only_make_look_alikes_are_refused(invisible):
    # "Ac\u200bme" would be a second "Acme" in the tree that nobody can tell apart.
    assert message_of(f"Ac{invisible}me") == INVISIBLE


@pytest.mark.parametrize("control", ["\x7f", "\x85", "\x9f", "\u2028", "\u2029"])
def test_the_delete_and_c1_controls_and_line_separators_are_refused(control):
    # Tabs, line breaks and the other C0 controls were refused already.
    assert message_of(f"Acme{control}Corp") == CONTROL


@pytest.mark.parametrize(
    "name",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 Family IT",  # an emoji ZWJ sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a ZWNJ
        "\u0915\u094d\u200d\u0937 Services",  # Devanagari with a ZWJ
        "Team \u2764\ufe0f",  # ends with a variation selector
        "Jose\u0301",  # ends with a combining accent
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Backup",
        "Backup \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "M\u00fcller\u00a0& S\u00f6hne",
        "\u9867\u5ba2 \U0001f680",
        "Shaky \U0001fae8",  # an emoji newer than some Pythons' Unicode tables
    ],
)
def test_joiners_inside_a_name_stay_allowed_but_not_at_its_edges(name):
    assert clean_name(f"  {name}  ") == name
    assert message_of(f"{ZWJ}{name}") == INVISIBLE_EDGE
    assert message_of(f"{name}{ZWNJ}") == INVISIBLE_EDGE
    assert message_of(f"{name}\u3164") == INVISIBLE


@given(st.text(max_size=60))
def test_every_accepted_name_shows_something_and_nothing_reorders_it(value):
    try:
        name = clean_name(value)
    except ValidationError:
        return
    assert name == value.strip() and name
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u200b\u2028\u2029]", name)
    assert not re.search("[\x00-\x1f\x7f-\x9f]", name)
    assert name[0] not in (ZWJ, ZWNJ) and name[-1] not in (ZWJ, ZWNJ)


# --- Names in the console's forms ---------------------------------------------------


def customer_post(name: str, **fields) -> dict:
    return {
        "name": name,
        "contact_email": "it@example.com",
        "usage_space_bytes": str(10 * 10**9),
        "trial_days": "30",
        **fields,
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [(ZWSP + ZWSP, NOT_VISIBLE), (f"Acme {RLO}LTD", INVISIBLE), ("Acme\u2028Corp", CONTROL)],
)
def test_add_new_customer_shows_a_bad_name_as_a_field_error(
    alice_client, reseller_a, name, message
):
    url = reverse("customer-add", args=[reseller_a.code])
    response = alice_client.post(url, customer_post(name))
    assert response.status_code == 200
    assert message in field_errors(text(response), "name")
    assert not Node.objects.customers().filter(parent=reseller_a).exists()


def test_a_contact_name_follows_the_same_rule(alice_client, reseller_a):
    url = reverse("customer-add", args=[reseller_a.code])
    response = alice_client.post(url, customer_post("Acme", contact_name=ZWSP))
    assert response.status_code == 200
    assert NOT_VISIBLE in field_errors(text(response), "contact_name")
    assert not Node.objects.customers().filter(parent=reseller_a).exists()


def test_add_sub_reseller_refuses_an_invisible_name(alice_client, reseller_a):
    response = alice_client.post(reverse("subreseller-add", args=[reseller_a.code]), {"name": ZWSP})
    assert response.status_code == 200
    assert NOT_VISIBLE in field_errors(text(response), "name")
    assert not Node.objects.resellers().filter(parent=reseller_a).exists()


def test_add_new_client_shows_a_bad_display_name_as_a_field_error(alice_client, customer_a1):
    response = alice_client.post(
        reverse("client-add", args=[customer_a1.code]),
        {
            "securecloud_id": "rtl@acme.example",
            "name": f"Invoice{RLO}fdp.exe",
            "password": "client-pass-9",
            "password2": "client-pass-9",
        },
    )
    assert response.status_code == 200
    assert INVISIBLE in field_errors(text(response), "name")
    assert not Client.objects.filter(securecloud_id="rtl@acme.example").exists()


def test_editing_a_client_refuses_an_invisible_display_name(alice_client, client_a1):
    response = alice_client.post(
        reverse("client-edit", args=[client_a1.code]), {"name": ZWSP, "email": ""}
    )
    assert response.status_code == 200
    assert NOT_VISIBLE in field_errors(text(response), "name")
    client_a1.refresh_from_db()
    assert client_a1.name == "Ann's laptop"


def test_the_services_refuse_the_same_names(reseller_a, customer_a1, client_a1):
    with pytest.raises(ValidationError) as caught:
        services.create_customer(
            reseller_a, name=ZWSP, contact_email="it@example.com", acting_user=None, origin="test"
        )
    assert caught.value.message_dict == {"name": [NOT_VISIBLE]}
    with pytest.raises(ValidationError) as caught:
        services.rename_reseller(reseller_a, f"Alpha{RLO}", acting_user=None, origin="test")
    assert caught.value.message_dict == {"name": [INVISIBLE]}
    with pytest.raises(ValidationError) as caught:
        client_services.update_client(
            client_a1, name=f"{ZWJ}Ann", email="", acting_user=None, origin="test"
        )
    assert caught.value.message_dict == {"name": [INVISIBLE_EDGE]}


def test_an_email_address_cannot_hide_a_direction_override_either(
    alice_client, reseller_a, client_a1
):
    url = reverse("customer-add", args=[reseller_a.code])
    response = alice_client.post(url, customer_post("Acme", contact_email=f"it@acme{RLO}.example"))
    assert response.status_code == 200
    assert "Enter a valid email address." in field_errors(text(response), "contact_email")
    with pytest.raises(ValidationError) as caught:
        client_services.update_client(
            client_a1, name="Ann", email=f"ann@{ZWSP}acme.example", acting_user=None, origin="test"
        )
    assert caught.value.message_dict == {"email": ["Enter a valid email address."]}
    # Internationalised domains stay fine.
    client_services.update_client(
        client_a1, name="Ann", email="ann@b\u00fccher.example", acting_user=None, origin="test"
    )


# --- Names in the imports -----------------------------------------------------------


def test_imports_list_bad_names_by_line(reseller_a, customer_a1, tmp_path):
    customers = (
        "name,contact_name,contact_email\n"
        f"{ZWSP}{ZWSP},,a@example.com\n"  # 2
        f"Fine,Ann{RLO}nnA,b@example.com\n"  # 3
        "Also fine,,c@example.com\n"  # 4
    )
    result = run_csv("import_customers", tmp_path, customers, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [
        f"line 2, name: {NOT_VISIBLE}",
        f"line 3, contact_name: {INVISIBLE}",
    ]
    assert not Node.objects.customers().filter(name__in=["Fine", "Also fine"]).exists()

    resellers = f"name,parent\n{ZWSP},\nWest,\n"
    result = run_csv("import_resellers", tmp_path, resellers, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [f"line 2, name: {NOT_VISIBLE}"]
    assert not Node.objects.filter(name="West").exists()

    clients = (
        "securecloud_id,customer,name,password\n"
        f"one@acme.example,Acme,{ZWSP},client-pass-9\n"  # 2
        f"two@acme.example,Acme,\u2066two\u2069,client-pass-9\n"  # 3
    )
    result = run_csv("import_clients", tmp_path, clients, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [f"line 2, name: {NOT_VISIBLE}", f"line 3, name: {INVISIBLE}"]
    assert not Client.objects.filter(customer=customer_a1).exists()


# --- A reseller's name is a sender name ----------------------------------------------

SENDER = "A reseller's name is the sender name of its emails: it cannot contain <, > or @."
# Each would read as an address in the From line of the reseller's emails.
ADDRESS_LIKE = [
    "Billing Dept <billing@heroware.example>",
    "billing@heroware.example",
    "Heroware <Billing>",
    "Billing Dept \uff1cbilling\uff20heroware.example\uff1e",  # full-width look-alikes
    "billing\ufe6bheroware.example",  # small commercial at
]


@pytest.fixture
def root_client_too(root):
    """The superuser in a browser of its own, beside alice's."""
    browser = DjangoClient()
    browser.force_login(root)
    return browser


@pytest.mark.parametrize("name", ADDRESS_LIKE)
def test_a_reseller_name_cannot_read_as_an_email_address(
    alice_client, root_client_too, reseller_a, sub_reseller_a, tmp_path, name
):
    # The services, for every way in.
    with pytest.raises(ValidationError) as caught:
        services.create_reseller(reseller_a, name=name, acting_user=None, origin="test")
    assert caught.value.message_dict == {"name": [SENDER]}
    with pytest.raises(ValidationError) as caught:
        services.rename_reseller(sub_reseller_a, name, acting_user=None, origin="test")
    assert caught.value.message_dict == {"name": [SENDER]}
    # The console's forms.
    response = alice_client.post(reverse("subreseller-add", args=[reseller_a.code]), {"name": name})
    assert response.status_code == 200
    assert SENDER in unescape(field_errors(text(response), "name"))
    response = alice_client.post(
        reverse("reseller-edit", args=[sub_reseller_a.code]), {"name": name}
    )
    assert response.status_code == 200
    assert SENDER in unescape(field_errors(text(response), "name"))
    # The Django admin.
    response = root_client_too.post("/admin/hierarchy/reseller/add/", {"name": name})
    assert response.status_code == 200
    assert SENDER in unescape(text(response))
    # The import.
    result = run_csv(
        "import_resellers", tmp_path, f'name,parent\n"{name}",\n', "--reseller", "Alpha Backup"
    )
    assert not result.ok
    assert result.error_lines == [f"line 2, name: {SENDER}"]
    assert not Node.objects.resellers().exclude(pk__in=[reseller_a.pk, sub_reseller_a.pk]).exists()
    sub_reseller_a.refresh_from_db()
    assert sub_reseller_a.name == "Alpha East"


def test_customer_names_may_hold_those_characters(alice_client, reseller_a):
    url = reverse("customer-add", args=[reseller_a.code])
    response = alice_client.post(url, customer_post("Acme <IT@acme>"))
    assert response.status_code == 302
    assert Node.objects.customers().get(parent=reseller_a).name == "Acme <IT@acme>"


# --- Client passwords ---------------------------------------------------------------


def test_a_client_password_may_hold_spaces_but_not_start_or_end_with_one():
    for password, message in [
        (" " * 8, ONLY_SPACES),
        ("\t \u00a0 \u3000   ", ONLY_SPACES),
        (" client-pass-9", EDGE_SPACE),
        ("client-pass-9 ", EDGE_SPACE),
        ("\tclient-pass-9", EDGE_SPACE),
        ("client-pass-9\u00a0", EDGE_SPACE),
    ]:
        with pytest.raises(ValidationError) as caught:
            validate_client_password(password)
        assert caught.value.messages == [message], repr(password)
    validate_client_password("correct horse battery staple")


def test_add_new_client_refuses_a_password_of_spaces(alice_client, customer_a1):
    url = reverse("client-add", args=[customer_a1.code])
    for password, message in ((" " * 8, ONLY_SPACES), ("  client-pass-9", EDGE_SPACE)):
        response = alice_client.post(
            url,
            {"securecloud_id": "spaces@acme.example", "password": password, "password2": password},
        )
        assert response.status_code == 200
        assert message in field_errors(text(response), "password")
    assert not Client.objects.filter(securecloud_id="spaces@acme.example").exists()


def test_reset_password_refuses_a_password_of_spaces(alice_client, client_a1):
    url = reverse("client-reset-password", args=[client_a1.code])
    for password, message in ((" " * 8, ONLY_SPACES), ("client-pass-9 ", EDGE_SPACE)):
        response = alice_client.post(url, {"password": password, "password2": password})
        assert response.status_code == 200
        assert message in field_errors(text(response), "password")
    client_a1.refresh_from_db()
    assert check_password("client-pass-1", client_a1.password)


def test_the_services_refuse_passwords_with_white_space_edges(customer_a1, client_a1):
    with pytest.raises(ValidationError) as caught:
        client_services.set_client_password(client_a1, " " * 8, acting_user=None, origin="test")
    assert caught.value.message_dict == {"password": [ONLY_SPACES]}
    with pytest.raises(ValidationError) as caught:
        client_services.create_client(
            customer_a1,
            securecloud_id="edge@acme.example",
            password=" client-pass-9 ",
            acting_user=None,
            origin="test",
        )
    assert caught.value.message_dict == {"password": [EDGE_SPACE]}


def test_the_agent_api_applies_the_rule_where_a_connect_sets_a_password_only(
    client, customer_a1, customer_a_east
):
    agent = Agent(client)
    key = customer_a_east.registration_key
    # A new client that adds itself (auto-authorization is on at East Widgets).
    response = agent.connect("newbie@east.example", " " * 8, key)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "fields": {"password": ONLY_SPACES}}
    assert not Client.objects.filter(securecloud_id="newbie@east.example").exists()
    # A client added in the console without a password, claimed by its first connect.
    waiting = client_services.create_client(
        customer_a_east, securecloud_id="waiting@east.example", acting_user=None, origin="test"
    )
    response = agent.connect("waiting@east.example", "client-pass-9 ", key)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "fields": {"password": EDGE_SPACE}}
    waiting.refresh_from_db()
    assert waiting.password == ""
    assert agent.connect("waiting@east.example", "client-pass-9", key).status_code == 200

    # A password stored before the rule (imported as a hash) still connects: checking a
    # password is not setting one. A wrong one is a 401, never the rule's 400.
    for customer, securecloud_id in (
        (customer_a1, "old@acme.example"),
        (customer_a_east, "old@east.example"),
    ):
        Client.objects.create(
            customer=customer,
            securecloud_id=securecloud_id,
            password=make_password("  old spaced pw  "),
            trial_ends_at=timezone.now() + timedelta(days=3),
        )
        response = agent.connect(securecloud_id, "  old spaced pw  ")
        assert response.status_code == 200, response.content
        assert agent.connect(securecloud_id, " " * 8).status_code == 401


# --- "Since Auto-Authorization is turned off, you must enter a password." -----------


def test_the_password_notice_shows_once_and_the_error_once(alice_client, customer_a1):
    url = reverse("client-add", args=[customer_a1.code])
    page = text(alice_client.get(url))
    assert page.count(PASSWORD_REQUIRED) == 1
    note = re.search(r'<div[^>]*role="note"[^>]*>.*?</div>', page, re.S).group(0)
    assert PASSWORD_REQUIRED in note

    page = text(alice_client.post(url, {"securecloud_id": "nopass@acme.example"}))
    assert page.count(PASSWORD_REQUIRED) == 2  # the notice and the field's error
    assert PASSWORD_REQUIRED in re.search(r'role="note"[^>]*>.*?</div>', page, re.S).group(0)
    assert PASSWORD_REQUIRED in field_errors(page, "password")
    # The help text says something of its own: the password's rules.
    hint = re.search(r'id="id_password_helptext"[^>]*>(.*?)</', page, re.S).group(1)
    assert "At least 8 characters, with no space at the start or end." in hint


# --- Required fields ----------------------------------------------------------------


def console_forms(reseller_a, customer_a1, client_a1) -> dict[str, str]:
    return {
        "Add New Customer": reverse("customer-add", args=[reseller_a.code]),
        "Edit customer": reverse("customer-edit", args=[customer_a1.code]),
        "Add Sub-Reseller": reverse("subreseller-add", args=[reseller_a.code]),
        "Reseller pane (add admin)": reverse("reseller-pane", args=[reseller_a.code]),
        "Add New Client": reverse("client-add", args=[customer_a1.code]),
        "Client pane (extend trial, reset password)": reverse("client-pane", args=[client_a1.code]),
        "Edit client": reverse("client-edit", args=[client_a1.code]),
        "Delete client": reverse("client-delete", args=[client_a1.code]),
        # Pages that render a whole form with |crispy use the same field template.
        "Change password": reverse("password_change"),
        "Two-factor setup": reverse("two-factor-setup"),
    }


def test_no_console_form_marks_required_fields_with_an_asterisk(
    alice_client, reseller_a, customer_a1, client_a1
):
    for title, url in console_forms(reseller_a, customer_a1, client_a1).items():
        page = text(alice_client.get(url))
        assert "asteriskField" not in page, title
        for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S):
            assert not re.sub(r"<[^>]+>", "", label).strip().endswith("*"), (title, label)
    pane = text(alice_client.get(reverse("client-pane", args=[client_a1.code])))
    assert re.search(r"<label[^>]*>\s*Extend trial by \(days\)\s*</label>", pane)
    assert re.search(r"<label[^>]*>\s*New password\s*</label>", pane)
    # Required inputs say so to assistive technology, on the pane as on Add New Customer.
    assert re.search(r'<input[^>]*name="days"[^>]*required', pane)
    assert re.search(r'<input[^>]*name="password"[^>]*required', pane)
    add = text(alice_client.get(reverse("customer-add", args=[reseller_a.code])))
    assert re.search(r'<input[^>]*name="name"[^>]*required', add)
    # Acme's auto-authorization is off: its Add New Client form requires the password.
    add = text(alice_client.get(reverse("client-add", args=[customer_a1.code])))
    assert re.search(r'<input[^>]*name="password"[^>]*required', add)
