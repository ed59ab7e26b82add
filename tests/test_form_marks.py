"""Required fields are marked: "(required)" in words after the label, for the eye, and
the required attribute on the field, for screen readers; optional fields carry neither.
The label itself keeps the product's words, so the field's name stays "Name"."""

import re

from django.urls import reverse


def label_and_mark(html: str, field_id: str) -> tuple[str, bool]:
    """The label's text for a field, and whether "(required)" follows it."""
    match = re.search(
        rf'<label[^>]*for="{field_id}"[^>]*>(.*?)</label>\s*(<span class="required-mark"'
        r' aria-hidden="true">\(required\)</span>)?',
        html,
        re.S,
    )
    assert match, f"no label for {field_id}"
    return match.group(1).strip(), match.group(2) is not None


def field_tag(html: str, field_id: str) -> str:
    return re.search(rf'<(?:input|select|textarea)[^>]*id="{field_id}"[^>]*>', html).group(0)


def test_add_customer_marks_its_required_fields(alice_client, reseller_a):
    html = alice_client.get(reverse("customer-add", args=[reseller_a.code])).content.decode()
    assert label_and_mark(html, "id_name") == ("Name", True)
    assert " required" in field_tag(html, "id_name")
    assert label_and_mark(html, "id_contact_name") == ("Contact name", False)
    assert " required" not in field_tag(html, "id_contact_name")


def test_add_client_marks_the_securecloud_id_required(alice_client, customer_a1):
    html = alice_client.get(reverse("client-add", args=[customer_a1.code])).content.decode()
    assert label_and_mark(html, "id_securecloud_id") == ("SecureCloud ID", True)
    assert " required" in field_tag(html, "id_securecloud_id")


def test_move_marks_the_choice_of_customer_required(alice_client, client_a1, reseller_a):
    from hierarchy import services

    services.create_customer(
        reseller_a, name="Bolt", contact_email="it@bolt.example", acting_user=None, origin="test"
    )
    html = alice_client.get(reverse("client-move", args=[client_a1.code])).content.decode()
    legend = re.search(r"<legend[^>]*>(.*?)</legend>", html, re.S).group(1)
    assert "Move to customer" in legend and "(required)" in legend
    radio = re.search(r'<input[^>]*type="radio"[^>]*>', html).group(0)
    assert " required" in radio
