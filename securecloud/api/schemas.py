"""What the admin API reads and answers, as pydantic schemas (the OpenAPI document is
generated from these). Ids are the objects' UUIDs, the same that console URLs carry.

Inputs forbid unknown fields (a misspelt field is an error, not silently ignored); their
values are checked again by the services, whose messages the answer carries.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from clients.models import Client
from hierarchy.models import DEFAULT_TRIAL_DAYS, DEFAULT_USAGE_SPACE, AuditEvent, Node

STRICT = ConfigDict(extra="forbid")


class ResellerOut(Schema):
    id: UUID = Field(..., description="The reseller's id (its console URL's UUID)")
    name: str
    parent: UUID | None = Field(None, description="The reseller above it (none for the top)")
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Node) -> Any:
        return obj.code

    @staticmethod
    def resolve_parent(obj: Node, context: dict[str, Any]) -> Any:
        # The key's own reseller shows no parent: what is above it is not the key's.
        auth = getattr((context or {}).get("request"), "auth", None)
        key = getattr(auth, "key", None)
        if not obj.parent_id or (key is not None and key.reseller_id == obj.pk):
            return None
        return obj.parent.code


class ResellerIn(Schema):
    model_config = STRICT

    name: str = Field(..., max_length=1000)
    parent: UUID | None = Field(
        None, description="The reseller to add it under (default: the key's reseller)"
    )


class ResellerPatch(Schema):
    model_config = STRICT

    name: str = Field(..., max_length=1000)


class CustomerOut(Schema):
    id: UUID
    reseller: UUID
    name: str
    contact_name: str
    contact_email: str
    usage_space_bytes: int | None = Field(None, description="None: unlimited")
    used_bytes: int
    client_count: int
    auto_authorization: bool = Field(
        ..., description="Automatically add clients when they connect to the server"
    )
    email_reports: bool
    trial_days: int
    registration_key: str | None = Field(
        None, description="What agents register with (for auto-authorization)"
    )
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Node) -> Any:
        return obj.code

    @staticmethod
    def resolve_reseller(obj: Node) -> Any:
        return obj.parent.code

    @staticmethod
    def resolve_auto_authorization(obj: Node) -> Any:
        return obj.auto_add_clients


class CustomerIn(Schema):
    model_config = STRICT

    reseller: UUID | None = Field(
        None, description="The reseller to add it under (default: the key's reseller)"
    )
    name: str = Field(..., max_length=1000)
    contact_email: str = Field(..., max_length=1000)
    contact_name: str = Field("", max_length=1000)
    usage_space_bytes: int | None = Field(
        DEFAULT_USAGE_SPACE, ge=1, description="Bytes; null: unlimited"
    )
    auto_authorization: bool = False
    email_reports: bool = False
    trial_days: int = Field(DEFAULT_TRIAL_DAYS, ge=1)


class CustomerPatch(Schema):
    """Only the fields sent change."""

    model_config = STRICT

    name: str | None = Field(None, max_length=1000)
    contact_email: str | None = Field(None, max_length=1000)
    contact_name: str | None = Field(None, max_length=1000)
    usage_space_bytes: int | None = Field(None, ge=1, description="Bytes; null: unlimited")
    auto_authorization: bool | None = None
    email_reports: bool | None = None
    trial_days: int | None = Field(None, ge=1)


class ClientOut(Schema):
    id: UUID
    customer: UUID
    securecloud_id: str
    name: str
    email: str
    plan: Client.Plan
    status: Client.Status
    trial_ends_at: datetime | None
    used_bytes: int
    last_seen_at: datetime | None
    last_backup_at: datetime | None
    last_backup_status: str = Field(..., description="success, warning, failed, or empty")
    last_success_at: datetime | None
    agent_version: str
    hostname: str
    created_at: datetime

    @staticmethod
    def resolve_id(obj: Client) -> Any:
        return obj.code

    @staticmethod
    def resolve_customer(obj: Client) -> Any:
        # Read beside the client by the API's querysets (securecloud.api.clients).
        code = getattr(obj, "customer_code", None)
        return code if code is not None else obj.customer.code


class ClientIn(Schema):
    model_config = STRICT

    customer: UUID
    securecloud_id: str = Field(..., max_length=1000)
    password: str | None = Field(
        None,
        max_length=1000,
        description="Required when the customer's auto-authorization is off",
    )
    name: str = Field("", max_length=1000)
    email: str = Field("", max_length=1000)


class ClientPatch(Schema):
    model_config = STRICT

    name: str | None = Field(None, max_length=1000)
    email: str | None = Field(None, max_length=1000)


class ExtendTrialIn(Schema):
    model_config = STRICT

    days: int


class PasswordIn(Schema):
    model_config = STRICT

    password: str = Field(..., max_length=1000)


class MoveIn(Schema):
    model_config = STRICT

    customer: UUID = Field(..., description="The customer to move the client to")


class AuditEventOut(Schema):
    at: datetime
    actor: str
    origin: str
    action: str
    object_type: str
    object_id: UUID | None
    object: str
    customer_id: UUID | None
    changes: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> Any:
        return obj.actor_label

    @staticmethod
    def resolve_object_id(obj: AuditEvent) -> Any:
        return obj.object_code

    @staticmethod
    def resolve_object(obj: AuditEvent) -> Any:
        return obj.object_repr

    @staticmethod
    def resolve_customer_id(obj: AuditEvent) -> Any:
        return obj.customer_code


class EmailQueued(Schema):
    recipient: str
    status: str = Field(..., description="queued, sent or failed")


class RegistrationKeyOut(Schema):
    registration_key: str
