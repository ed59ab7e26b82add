"""manage.py set_branding: sets what it is given, clears what is given empty, reads and
checks a logo file, audits as the command, and refuses bad input with a clear message
(never a traceback) and without writing anything."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hierarchy.models import AuditEvent
from securecloud.branding.brands import brand_for
from securecloud.branding.models import Branding
from tests.branding.conftest import png


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("set_branding", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sets_the_given_settings_and_audits_as_the_command(reseller_a, tmp_path, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    out, err = run(
        "--reseller", "alpha backup",
        "--product-name", "Alphacloud",
        "--colour", "#1D4ED8",
        "--logo", str(logo),
        "--support-email", "help@alphacloud.example",
        "--support-url", "https://support.alphacloud.example/",
        "--sender-name", "Alphacloud Backup",
        "--console-host", "backup.alphacloud.example",
    )  # fmt: skip
    assert "Branding of Alpha Backup saved." in out
    assert "add backup.alphacloud.example to ALLOWED_HOSTS" in err
    brand = brand_for(reseller_a)
    assert (brand.product_name, brand.primary_colour) == ("Alphacloud", "#1d4ed8")
    assert brand.logo_type == "image/png" and brand.sender_name == "Alphacloud Backup"
    event = AuditEvent.objects.get(action="branding.update")
    assert event.origin == "command set_branding" and event.actor is None
    # Only what is given changes; an empty value inherits again.
    run("--reseller", "Alpha Backup", "--product-name", "")
    brand = brand_for(reseller_a)
    assert brand.product_name == "SecureCloud" and brand.primary_colour == "#1d4ed8"


def test_a_sub_reseller_by_its_name(sub_reseller_a):
    run("--reseller", "Alpha East", "--product-name", "East Cloud")
    assert brand_for(sub_reseller_a).product_name == "East Cloud"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--reseller", "Nobody"], "No reseller is named 'Nobody'"),
        (["--reseller", "Alpha Backup", "--colour", "#ffff00"], "--colour: #ffff00 is too light"),
        (["--reseller", "Alpha Backup", "--console-host", "x"], "--console-host: Enter a host"),
        (["--reseller", "Alpha Backup", "--logo", "/nonexistent.png"], "--logo: cannot read"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(reseller_a, args, message):
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)
    assert not Branding.objects.exists()
    assert not AuditEvent.objects.filter(action="branding.update").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG images are not accepted"),
        (b"", "The file is empty."),
        (b"GIF89a....", "not a PNG or JPEG"),
    ],
)
def test_a_bad_logo_file_is_refused(reseller_a, tmp_path, content, message):
    path = tmp_path / "logo.png"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run("--reseller", "Alpha Backup", "--logo", str(path))
    assert message in str(error.value)
    assert not Branding.objects.exists()
