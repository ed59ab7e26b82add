"""White-label branding in headless Chromium: an Administrator opens Reseller Admin →
Branding, sets a product name, a colour and a logo; the navbar, the title and the
buttons follow, the logo shows, and no Content-Security-Policy error (or any other)
reaches the browser console. The sign-in page reached through the reseller's console
address shows its brand before anyone signs in."""

import io
import re

import pytest
from PIL import Image, ImageDraw, ImageFont

from hierarchy import memberships, services
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_walkthrough import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUST = "#9a3412"  # white text on it: 7.3:1
RUST_RGB = "rgb(154, 52, 18)"
HOST = "backup.heroware.example"


@pytest.fixture
def heroware(db):
    """The walkthrough's reseller, its admin and a customer."""
    reseller = services.create_reseller(None, name="HEROware", acting_user=None, origin="test")
    memberships.add_reseller_admin(
        reseller,
        username="heroware-admin",
        email="admin@heroware.example",
        password=PASSWORD,
        acting_user=None,
        origin="test",
    )
    services.create_customer(
        reseller,
        name="Main Street Dental",
        contact_email="office@msdental.example",
        acting_user=None,
        origin="test",
    )
    return reseller


def logo_png() -> bytes:
    image = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 124, 124), fill=(255, 255, 255, 255))
    draw.ellipse((16, 16, 112, 112), fill=(154, 52, 18, 255))
    font = ImageFont.load_default(size=72)
    draw.text((64, 66), "H", fill=(255, 255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_an_administrator_brands_the_console(
    live_server, heroware, browser_page, screenshot, tmp_path, settings
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "media"
    page = browser_page
    sign_in(page, live_server)
    page.get_by_role("button", name="Reseller Admin").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Branding").click()
    expect(page.get_by_role("heading", name="Branding of HEROware")).to_be_visible()

    page.get_by_label("Product name").fill("HEROware Backup")
    page.get_by_label("Primary colour").fill("#ffee00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("too light")).to_be_visible()

    page.get_by_label("Primary colour").fill(RUST)
    logo = tmp_path / "heroware.png"
    logo.write_bytes(logo_png())
    page.get_by_label("Logo", exact=True).set_input_files(str(logo))
    page.get_by_label("Support email").fill("support@heroware.example")
    page.get_by_label("Support URL").fill("https://heroware.example/support")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Branding of HEROware saved.")).to_be_visible()

    page.get_by_role("link", name="HEROware Backup Console").click()
    expect(page).to_have_title(re.compile(r"HEROware Backup Console$"))
    navbar = page.locator("nav.navbar")
    expect(navbar).to_have_css("background-color", RUST_RGB)
    expect(page.get_by_role("link", name="Add New Customer")).to_have_css(
        "background-color", RUST_RGB
    )
    brand_logo = page.locator("img.brand-logo")
    expect(brand_logo).to_be_visible()
    assert brand_logo.evaluate("(img) => img.complete && img.naturalWidth") == 128
    expect(page.get_by_role("contentinfo")).to_contain_text("support@heroware.example")
    screenshot(page, "branded-console")
    assert page.console_errors == []


def test_the_sign_in_page_at_the_console_address_shows_the_brand(
    live_server, heroware, chromium, tmp_path, settings
):
    from playwright.sync_api import expect

    from securecloud.branding import logos, services

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", HOST]
    services.set_branding(
        heroware,
        acting_user=None,
        origin="test",
        product_name="HEROware Backup",
        primary_colour=RUST,
        console_host=HOST,
        logo=logos.clean_logo(logo_png()),
    )
    port = live_server.url.rsplit(":", 1)[1]
    rules = f"--host-resolver-rules=MAP {HOST} 127.0.0.1"
    # A browser of its own, that resolves the console address to this machine.
    browser = chromium.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, rules]
    )
    try:
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.goto(f"http://{HOST}:{port}/login/")
        expect(page).to_have_title(re.compile(r"HEROware Backup Console$"))
        expect(page.locator("nav.navbar")).to_have_css("background-color", RUST_RGB)
        expect(page.locator("img.brand-logo")).to_be_visible()
        page.get_by_label("Username").fill("heroware-admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("link", name="HEROware Backup Console")).to_be_visible()
        # Any other address shows the product's own name.
        other = browser.new_page()
        other.goto(f"{live_server.url}/login/")
        expect(other).to_have_title(re.compile(r"SecureCloud Console$"))
    finally:
        browser.close()
    # Plain HTTP on a name other than localhost is no "potentially trustworthy" origin,
    # so Chromium says it ignores the Cross-Origin-Opener-Policy header (HTTPS in
    # production): that notice aside, no error.
    assert [text for text in errors if "Cross-Origin-Opener-Policy" not in text] == []
