"""The From line of the console's emails: a display name at the address of
DEFAULT_FROM_EMAIL. An email about a reseller or a customer shows its brand's sender
name (securecloud.branding.brands), else the name of the reseller."""

from email.utils import formataddr, parseaddr

from django.conf import settings

from hierarchy.models import Node
from hierarchy.validators import without_address_characters
from securecloud.branding.brands import brand_for


def from_address(sender_name: str = "") -> str:
    """`"<sender name>" <address of DEFAULT_FROM_EMAIL>`, or DEFAULT_FROM_EMAIL as it is.

    Mail programs show the sender name, quoted or not, as it is: one that holds an
    address would pass for that address. Reseller names and sender names refuse <, >
    and @; names from before that rule lose them here.
    """
    sender_name = without_address_characters(sender_name or "")
    default: str = settings.DEFAULT_FROM_EMAIL
    if not sender_name:
        return default
    address = parseaddr(default)[1] or default
    return formataddr((sender_name, address))


def sender_of(node: Node) -> str:
    """The From line of an email about `node` (a reseller, or a customer): its brand's
    sender name, else the name of the reseller (a customer's: its parent's)."""
    reseller = node.parent if node.is_customer else node
    fallback = reseller.name if reseller is not None else ""
    return from_address(brand_for(node).sender_name or fallback)
