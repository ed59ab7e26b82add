"""set_branding: set a reseller's brand from a script, as the Branding page does."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hierarchy.models import Node
from securecloud.branding import logos, services
from securecloud.branding.brands import host_is_served

ORIGIN = "command set_branding"
# option → setting; an empty value ("") clears the setting: the reseller inherits again.
OPTIONS = {
    "product_name": "--product-name",
    "primary_colour": "--colour",
    "support_email": "--support-email",
    "support_url": "--support-url",
    "sender_name": "--sender-name",
    "console_host": "--console-host",
}


def find_reseller(name: str) -> Node:
    """A top-level reseller by name; else the one sub-reseller with that name."""
    name = name.strip()
    resellers = Node.objects.resellers()
    top: Node | None = resellers.filter(parent=None, name__iexact=name).first()
    if top is not None:
        return top
    found: list[Node] = list(resellers.filter(name__iexact=name)[:2])
    if not found:
        raise CommandError(f"No reseller is named {name!r}.")
    if len(found) > 1:
        raise CommandError(f"Several sub-resellers are named {name!r}; rename one first.")
    return found[0]


class Command(BaseCommand):
    help = (
        "Set a reseller's branding (product name, colour, logo, support contact, sender "
        "name, console address). Settings not given stay as they are; an empty value "
        "('') clears one, so that the reseller inherits it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reseller", required=True, help="The reseller's name")
        parser.add_argument("--product-name", dest="product_name")
        parser.add_argument("--colour", "--color", dest="primary_colour", help="#rrggbb")
        parser.add_argument("--logo", help="A PNG or JPEG file (at most 512 KB, 1024 x 1024)")
        parser.add_argument("--remove-logo", action="store_true", help="Inherit the logo again")
        parser.add_argument("--support-email", dest="support_email")
        parser.add_argument("--support-url", dest="support_url")
        parser.add_argument("--sender-name", dest="sender_name")
        parser.add_argument("--console-host", dest="console_host", help="e.g. backup.example.com")

    def handle(self, *args: Any, **options: Any) -> None:
        reseller = find_reseller(options["reseller"])
        values = {name: options[name] for name in OPTIONS if options.get(name) is not None}
        logo = self._logo(options.get("logo"))
        if logo is not None and options["remove_logo"]:
            raise CommandError("Give either --logo or --remove-logo, not both.")
        try:
            services.set_branding(
                reseller,
                acting_user=None,
                origin=ORIGIN,
                logo=logo,
                remove_logo=options["remove_logo"],
                **values,
            )
        except ValidationError as exc:
            raise CommandError(_message(exc)) from None
        self.stdout.write(f"Branding of {reseller.name} saved.")
        host = services.branding_of(reseller).console_host
        if host and not host_is_served(host):
            self.stderr.write(
                f"Warning: add {host} to ALLOWED_HOSTS: until then this server refuses "
                "requests for it."
            )

    def _logo(self, path: str | None) -> logos.Logo | None:
        if path is None:
            return None
        file = Path(path)
        try:
            size = file.stat().st_size
            if size > logos.MAX_BYTES:
                raise CommandError(
                    f"--logo: the file is {size // 1024} KB; a logo may be at most 512 KB."
                )
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"--logo: cannot read {path}: {exc.strerror or exc}") from None
        try:
            return logos.clean_logo(data)
        except ValidationError as exc:
            raise CommandError(f"--logo: {' '.join(exc.messages)}") from None


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{OPTIONS.get(name, name)}: {' '.join(messages)}"
            for name, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
