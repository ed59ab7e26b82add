"""A reseller's prices (optional): per GB-month on the average, per paid client per month,
in one currency. A sub-reseller sets its own for its own customers."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node
from securecloud.usage.models import Price

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_PRICE = Decimal("99999999")


def _price(value: object, field: str) -> Decimal:
    text = str(value if value is not None else "").strip().replace(",", ".")
    try:
        price = Decimal(text or "0")
    except InvalidOperation:
        raise ValidationError({field: "Enter a price, e.g. 0.05."}) from None
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise ValidationError({field: "Enter a price from 0 to 99999999."})
    if price != price.quantize(Decimal("0.0001")):
        raise ValidationError({field: "Enter a price with at most 4 decimals."})
    return price


def clean_prices(
    per_gb_month: object, per_paid_client: object, currency: object
) -> tuple[Decimal, Decimal, str]:
    """The prices as stored, or every field's error at once."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Decimal] = {}
    for name, value in (("per_gb_month", per_gb_month), ("per_paid_client", per_paid_client)):
        try:
            values[name] = _price(value, name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    code = str(currency or "").strip().upper()
    if not CURRENCY.match(code):
        errors["currency"] = ["Enter a three-letter currency code, e.g. EUR."]
    if errors:
        raise ValidationError(errors)
    return values["per_gb_month"], values["per_paid_client"], code


def set_prices(
    reseller: Node,
    *,
    per_gb_month: object,
    per_paid_client: object,
    currency: object,
    acting_user: ActingUser,
    origin: str,
) -> Price:
    """Set the reseller's prices (its customers' amounts then show on the usage page)."""
    audit.check_origin(origin)
    if not reseller.is_reseller:
        raise ValidationError("Prices belong to a reseller.")
    gb_price, client_price, code = clean_prices(per_gb_month, per_paid_client, currency)
    with transaction.atomic():
        price = Price.objects.select_for_update().filter(reseller=reseller).first()
        before = (
            {}
            if price is None
            else audit.snapshot(price, ("per_gb_month", "per_paid_client", "currency"))
        )
        if price is None:
            price = Price(reseller=reseller)
        price.per_gb_month, price.per_paid_client, price.currency = gb_price, client_price, code
        price.save()
        after = audit.snapshot(price, ("per_gb_month", "per_paid_client", "currency"))
        changes = audit.changes_between(before, after)
        if changes:
            audit.record(
                "usage.prices_set",
                reseller,
                acting_user=acting_user,
                origin=origin,
                changes=changes,
            )
    return price


def clear_prices(reseller: Node, *, acting_user: ActingUser, origin: str) -> None:
    """No prices: the usage page shows no amounts for the reseller's customers."""
    audit.check_origin(origin)
    with transaction.atomic():
        price = Price.objects.select_for_update().filter(reseller=reseller).first()
        if price is None:
            return
        before = audit.snapshot(price, ("per_gb_month", "per_paid_client", "currency"))
        price.delete()
        audit.record(
            "usage.prices_cleared",
            reseller,
            acting_user=acting_user,
            origin=origin,
            changes={name: [value, None] for name, value in before.items()},
        )
