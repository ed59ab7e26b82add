"""The History pages in the product's words: each audit event as a short sentence, its
changed fields by their labels, and values as an admin reads them (sizes, on/off, plan
and status names, times to the minute with their time zone).

Only formatting of what hierarchy.audit stored, from the event row alone: no queries,
so a page of history costs the same whatever its events hold."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from hierarchy.validators import format_bytes

NO_VALUE = "—"

# How an action's changes read. CHANGED: fields went from one value to another. NEW: a
# new object's values, or the facts of a one-off (an email's recipient, an import's
# counts), stored as [None, value]. GONE: a deleted object's last values, [value, None].
CHANGED, NEW, GONE = "changed", "new", "gone"


@dataclass(frozen=True)
class Action:
    label: str
    changes: str = CHANGED
    # A switch's label says which way it went, read from this field's new value.
    switch: str = ""
    turned_on: str = ""
    turned_off: str = ""
    # The label when a backup agent did it (its origin is "agent <address>").
    by_agent: str = ""


ACTIONS = {
    "reseller.created": Action("Reseller added", NEW),
    "reseller.renamed": Action("Reseller renamed"),
    "reseller.moved": Action("Reseller moved to another reseller"),
    "reseller.two_factor_policy": Action(
        "Two-factor sign-in policy changed",
        switch="require_two_factor",
        turned_on="Two-factor sign-in required",
        turned_off="Two-factor sign-in no longer required",
    ),
    "reseller.customer_user_settings": Action("Customer users' settings changed"),
    "branding.update": Action("Branding changed"),
    "reseller.deleted": Action("Reseller deleted", GONE),
    "customer.created": Action("Customer added", NEW),
    "customer.edited": Action("Customer settings changed"),
    "customer.auto_authorization": Action(
        "Auto-authorization changed",
        switch="auto_add_clients",
        turned_on="Auto-authorization turned on",
        turned_off="Auto-authorization turned off",
    ),
    "customer.registration_key_regenerated": Action("New registration key made"),
    "customer.moved": Action("Customer moved to another reseller"),
    "customer.deleted": Action("Customer deleted", GONE),
    "customer_user.added": Action("Customer user added", NEW),
    "customer_user.removed": Action("Customer user removed", GONE),
    "customer.welcome_email_queued": Action("Welcome email queued", NEW),
    "customer.welcome_email_sent": Action("Welcome email sent", NEW),
    "customer.welcome_email_failed": Action("Welcome email failed", NEW),
    "customer.email_retried": Action("Failed email sent again", NEW),
    "client.created": Action("Client added", NEW, by_agent="Client added by its agent"),
    "client.claimed_by_agent": Action("Client claimed by its agent on first connect"),
    "client.refresh_token_reused": Action(
        "Agent's refresh token used twice: every agent token of the client revoked"
    ),
    "client.pending": Action("Agent waiting for approval", NEW),
    "client.approved": Action("Client approved", NEW),
    "client.rejected": Action("Agent's request rejected", GONE),
    "client.edited": Action("Client details changed"),
    "client.switched_to_paid": Action("Switched to Paid"),
    "client.trial_extended": Action("Trial extended"),
    "client.password_reset": Action("Password reset"),
    "client.disabled": Action("Client disabled"),
    "client.enabled": Action("Client enabled"),
    "client.moved": Action("Client moved to another customer"),
    "client.deleted": Action("Client deleted", GONE),
    "admin.added": Action("Admin login added", NEW),
    "admin.removed": Action("Admin login removed", GONE),
    "admin.role_changed": Action("Admin's role changed"),
    "admin.set_password_link_sent": Action("Set-password link sent", NEW),
    "invitation.sent": Action("Admin invited", NEW),
    "invitation.resent": Action("Invitation sent again"),
    "invitation.accepted": Action("Invitation accepted"),
    "invitation.revoked": Action("Invitation revoked", GONE),
    "invitation.expired": Action("Expired invitation link tried"),
    "api_key.created": Action("API key created", NEW),
    "api_key.revoked": Action("API key revoked"),
    "admin.two_factor": Action(
        "Two-factor sign-in changed",
        switch="two_factor",
        turned_on="Two-factor sign-in turned on",
        turned_off="Two-factor sign-in turned off",
    ),
    "admin.two_factor_replaced": Action("New authenticator app set up"),
    "admin.recovery_codes_renewed": Action("New recovery codes made"),
    "login.signed_in": Action("Signed in"),
    "login.sign_in_failed": Action("Sign-in failed", NEW),
    "login.locked_out": Action("Sign-in refused: too many failed attempts", NEW),
    "login.signed_out": Action("Signed out"),
    "login.two_factor_passed": Action("Two-factor code accepted"),
    "login.two_factor_failed": Action("Two-factor code refused"),
    "login.password_changed": Action("Password changed"),
    "login.password_reset": Action("Password reset from an emailed link"),
    "login.password_set": Action("Password set in the Django admin", NEW),
    "login.alerts_changed": Action("Email alerts chosen"),
    "webhook.created": Action("Webhook added", NEW),
    "customer.alert_window_changed": Action("Missed-backup alert window changed"),
    "reseller.trial_end_emails_changed": Action("Trial emails to customers changed"),
    "webhook.edited": Action("Webhook changed"),
    "webhook.deleted": Action("Webhook deleted", GONE),
    "webhook.test_sent": Action("Webhook test sent"),
    "webhook.switched_off": Action("Webhook switched off after failures in a row"),
    "import.resellers": Action("Resellers imported", NEW),
    "import.customers": Action("Customers imported", NEW),
    "import.clients": Action("Clients imported", NEW),
    "usage.recorded": Action("Usage recorded for a day", NEW),
    "usage.prices_set": Action("Prices set"),
    "usage.prices_cleared": Action("Prices removed", GONE),
    "backup_reports.pruned": Action("Old backup reports deleted", NEW),
}

OBJECT_TYPES = {
    "reseller": "Reseller",
    "customer": "Customer",
    "client": "Client",
    "membership": "Admin login",
    "user": "Login",
    "login": "Login",
    "webhook": "Webhook",
    "pending request": "Agent waiting for approval",
    "import": "Import into",
    "apikey": "API key",
    "usage": "Usage",
    "backup reports": "Backup reports",
}

# Labels where the model has none fit for a table, keyed by field or by (object type,
# field): auto_add_clients's verbose name is the form's whole sentence.
FIELD_LABELS = {
    "auto_add_clients": "Auto-authorization",
    "trial_ends_at": "Trial ends",
    "username": "Login",
    "two_factor": "Two-factor sign-in",
    "per_gb_month": "Price per GB-month",
    "per_paid_client": "Price per paid client per month",
    "currency": "Currency",
    ("reseller", "parent"): "Parent reseller",
    # The Branding page's settings (securecloud.branding), recorded on the reseller.
    "product_name": "Product name",
    "primary_colour": "Primary colour",
    "support_email": "Support email",
    "support_url": "Support URL",
    "sender_name": "Email sender name",
    "console_host": "Console address",
    "logo_digest": "Logo (SHA-256)",
    ("customer", "parent"): "Reseller",
}

SIZE_FIELDS = {"usage_space_bytes", "used_bytes"}
# Settings that are turned on or off; other yes/no fields read "yes" or "no".
SWITCH_FIELDS = {"auto_add_clients", "email_reports", "require_two_factor", "two_factor"}

# The start of an origin ("console 10.0.0.5", "command import_clients") and how it reads.
ORIGINS = {
    "console": "Console, {}",
    "admin": "Django admin, {}",
    "agent": "Backup agent, {}",
    "command": "Command {}",
    "task": "Background task {}",
}
# Who acted when no login did: audit.record names the origin's channel, or "system".
CHANNEL_ACTORS = {
    "agent": "Backup agent",
    "command": "Server command",
    "task": "System",
    "system": "System",
}


@dataclass(frozen=True)
class Change:
    label: str
    # None: that side has no value (a new object has no before, a deleted one no after).
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Entry:
    """One row of a History page."""

    when: str
    when_iso: str
    what: str
    who: str
    origin: str
    object: str
    changes: list[Change]


def describe(event) -> Entry:
    """An AuditEvent as its History row reads."""
    action = ACTIONS.get(event.action)
    changes = event.changes if isinstance(event.changes, dict) else {}
    local = timezone.localtime(event.at)
    return Entry(
        when=format_time(local),
        when_iso=local.isoformat(timespec="seconds"),
        what=action_label(event.action, changes, event.origin),
        who=actor_label(event),
        origin=origin_label(event.origin),
        object=object_label(event.object_type, event.object_repr),
        changes=list(_changes(action, event.object_type, changes)),
    )


def action_label(code: str, changes: dict, origin: str = "") -> str:
    action = ACTIONS.get(code)
    if action is None:
        # A code recorded after this list was written: readable, never an error.
        words = (code or "").rsplit(".", 1)[-1].replace("_", " ").strip()
        return capfirst(words) or "Change"
    if action.by_agent and _channel(origin) == "agent":
        return action.by_agent
    if action.switch:
        pair = changes.get(action.switch)
        if isinstance(pair, list) and pair and isinstance(pair[-1], bool):
            return action.turned_on if pair[-1] else action.turned_off
    return action.label


def actor_label(event) -> str:
    label = event.actor_label or ""
    if event.actor_id is None and label in CHANNEL_ACTORS:
        if label == "system" or label == _channel(event.origin):
            return CHANNEL_ACTORS[label]
    return label or CHANNEL_ACTORS["system"]


def origin_label(origin: str) -> str:
    channel, _, detail = (origin or "").partition(" ")
    if channel in ORIGINS and detail:
        return ORIGINS[channel].format(detail)
    return origin or ""


def object_label(object_type: str, object_repr: str) -> str:
    kind = OBJECT_TYPES.get(object_type) or capfirst((object_type or "").replace("_", " "))
    return f"{kind} {object_repr}".strip()


def field_label(field: str, object_type: str = "") -> str:
    label = FIELD_LABELS.get((object_type, field)) or FIELD_LABELS.get(field)
    if label:
        return label
    model_field = _model_field(object_type, field)
    if model_field is not None:
        return capfirst(str(model_field.verbose_name))
    return capfirst(str(field).replace("_", " "))


def format_value(field: str, value, object_type: str = "") -> str:
    if field == "usage_space_bytes" and value is None:
        return "Unlimited"
    if value is None or value == "":
        return NO_VALUE
    if isinstance(value, bool):
        if field in SWITCH_FIELDS:
            return "on" if value else "off"
        return "yes" if value else "no"
    if field in SIZE_FIELDS and isinstance(value, int):
        return format_bytes(value)
    model_field = _model_field(object_type, field)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
        return _format_stored_time(value)
    return str(value)


def format_time(moment: datetime) -> str:
    """To the minute, in the server's time zone, with its name: 2026-03-01 09:05 UTC."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _format_stored_time(text: str) -> str:
    try:
        return format_time(datetime.fromisoformat(text))
    except ValueError:
        return text


def _changes(action: Action | None, object_type: str, changes: dict):
    shape = action.changes if action else CHANGED
    for field, pair in changes.items():
        label = field_label(field, object_type)
        if not (isinstance(pair, list) and len(pair) == 2):
            # Not the [before, after] that audit.record stores: show the value as it is.
            yield Change(label, None, format_value(field, pair, object_type))
            continue
        before, after = pair
        before_text = format_value(field, before, object_type)
        after_text = format_value(field, after, object_type)
        if shape == NEW:
            if after_text != NO_VALUE:
                yield Change(label, None, after_text)
        elif shape == GONE:
            if before_text != NO_VALUE:
                yield Change(label, before_text, None)
        else:
            yield Change(label, before_text, after_text)


def _channel(origin: str) -> str:
    return (origin or "").split(" ", 1)[0]


@cache
def _fields_by_type() -> dict:
    from clients.models import Client
    from hierarchy.models import Membership, Node

    def fields_of(model):
        return {field.name: field for field in model._meta.get_fields() if field.concrete}

    node_fields = fields_of(Node)
    return {
        "reseller": node_fields,
        "customer": node_fields,
        "client": fields_of(Client),
        "membership": fields_of(Membership),
    }


def _model_field(object_type: str, field: str):
    return _fields_by_type().get(object_type, {}).get(field)
