"""The settings of alerts that belong to a customer or a reseller: a customer's alert
window for missed backups, and a reseller's choice to email its customers' contacts
before a trial ends. Each write validated, in one transaction, audited."""

from django.core.exceptions import ValidationError
from django.db import transaction

from hierarchy import audit
from hierarchy.actors import ActingUser
from hierarchy.models import Node
from securecloud.events.models import (
    DEFAULT_MISSED_AFTER_HOURS,
    MAX_MISSED_AFTER_HOURS,
    CustomerAlertSetting,
    ResellerAlertSetting,
)


def missed_after_hours(customer: Node) -> int:
    setting = CustomerAlertSetting.objects.filter(customer=customer).first()
    return setting.missed_after_hours if setting else DEFAULT_MISSED_AFTER_HOURS


def set_missed_after_hours(
    customer: Node, hours: int, *, acting_user: ActingUser, origin: str
) -> int:
    if not customer.is_customer:
        raise ValidationError("The alert window is a customer's.")
    if not isinstance(hours, int) or not 1 <= hours <= MAX_MISSED_AFTER_HOURS:
        raise ValidationError(
            {"hours": f"Enter a number of hours from 1 to {MAX_MISSED_AFTER_HOURS}."}
        )
    with transaction.atomic():
        before = missed_after_hours(customer)
        CustomerAlertSetting.objects.update_or_create(
            customer=customer, defaults={"missed_after_hours": hours}
        )
        if before != hours:
            audit.record(
                "customer.alert_window_changed",
                customer,
                acting_user=acting_user,
                origin=origin,
                changes={"missed_after_hours": [before, hours]},
            )
    return hours


def emails_customers_before_trial_end(reseller: Node) -> bool:
    return ResellerAlertSetting.objects.filter(
        reseller=reseller, email_customers_before_trial_end=True
    ).exists()


def set_trial_end_emails(
    reseller: Node, enabled: bool, *, acting_user: ActingUser, origin: str
) -> None:
    if not reseller.is_reseller:
        raise ValidationError("This is a reseller's setting.")
    with transaction.atomic():
        before = emails_customers_before_trial_end(reseller)
        ResellerAlertSetting.objects.update_or_create(
            reseller=reseller, defaults={"email_customers_before_trial_end": enabled}
        )
        if before != enabled:
            audit.record(
                "reseller.trial_end_emails_changed",
                reseller,
                acting_user=acting_user,
                origin=origin,
                changes={"email_customers_before_trial_end": [before, enabled]},
            )
