"""The console's icons come from one SVG sprite served at /icons.svg, not inlined in
every page: a page names the sprite by its version, and the browser keeps it a year."""

import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from securecloud.console.templatetags.icons import ICONS

pytestmark = pytest.mark.django_db


def test_pages_reference_the_sprite_instead_of_carrying_it(alice_client, reseller_a):
    page = alice_client.get("/").content.decode()
    assert "<symbol" not in page
    hrefs = set(re.findall(r'<use href="([^"#]+)#bi-[\w-]+"', page))
    assert len(hrefs) == 1, hrefs  # every icon names the same sprite, with its version
    (href,) = hrefs
    assert re.fullmatch(r"/icons\.svg\?v=[0-9a-f]{10}", href)


def test_the_sprite_holds_every_icon_and_is_cached_for_its_version(alice_client):
    page = alice_client.get("/").content.decode()
    href = re.search(r'<use href="([^"#]+)#bi-', page).group(1)
    response = HttpClient().get(href)  # no sign-in needed: the icons are the product's own
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    sprite = response.content.decode()
    assert sprite.startswith('<svg xmlns="http://www.w3.org/2000/svg">')
    for name in ICONS:
        assert f'<symbol id="bi-{name}" viewBox="0 0 16 16">' in sprite


def test_a_page_from_an_older_version_gets_todays_sprite_briefly_cached(client):
    response = client.get(reverse("icon-sprite") + "?v=0123456789")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"
    assert client.post(reverse("icon-sprite")).status_code == 405
