"""The customer user's view: everything a customer user reaches from its home, by every
link and GET form on its pages, shows its own customer only. No other customer's name,
code, registration key or client, and no reseller's page, ever appears."""

import re
from collections import deque
from html import unescape
from urllib.parse import urlsplit

from django.urls import reverse

from hierarchy import customer_user_settings

MAX_PAGES = 200
LINK = re.compile(r'(?:href|hx-get)="([^"#]*)"')
GET_FORM = re.compile(r'<form\b(?=[^>]*\baction="([^"]*)")(?![^>]*\bmethod="post")[^>]*>', re.I)


def _links(html: str) -> set[str]:
    found = set(LINK.findall(html)) | set(GET_FORM.findall(html))
    urls = set()
    for raw in found:
        url = unescape(raw)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue  # another site, mailto:, a relative anchor
        if parts.path.startswith(("/static/", "/logout", "/admin/")):
            continue
        urls.add(url)
    return urls


def test_a_customer_user_reaches_only_its_own_customer(
    carol_client,
    reseller_a,
    customer_a1,
    client_a1,
    sub_reseller_a,
    customer_a_east,
    customer_b1,
    client_b1,
):
    # Everything it could be shown: the settings on, a second client, history.
    customer_user_settings.set_customer_user_settings(
        reseller_a,
        customers_may_add_clients=True,
        require_two_factor_customer_users=False,
        acting_user=None,
        origin="test",
    )
    customer_a1.refresh_from_db()
    customer_a_east.refresh_from_db()
    customer_b1.refresh_from_db()
    others = [customer_a_east, customer_b1]
    forbidden = {"Bravo Storage", "Alpha East", client_b1.securecloud_id}
    for other in others:
        forbidden |= {other.name, str(other.code)}
        if other.registration_key:
            forbidden.add(other.registration_key)
    forbidden |= {str(reseller_a.code), str(sub_reseller_a.code)}

    seen, queue, leaks, errors = set(), deque([reverse("console-home")]), [], []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        answer = carol_client.get(url, follow=True)
        if answer.status_code >= 500 or answer.status_code == 404:
            errors.append((url, answer.status_code))
            continue
        html = answer.content.decode()
        leaks += [(url, word) for word in forbidden if word in html]
        queue.extend(_links(html) - seen)
    assert errors == []
    assert leaks == []
    # It did reach its customer's pages (the crawl is not vacuous).
    assert reverse("customer-pane", args=[customer_a1.code]) in seen
    assert reverse("client-pane", args=[client_a1.code]) in seen
    assert reverse("customer-history", args=[customer_a1.code]) in seen
