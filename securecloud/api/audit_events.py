"""`/audit-events`: the audit log of the key's subtree, newest first."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema

from hierarchy.models import AuditEvent
from securecloud.accounts.permissions import Action, require
from securecloud.api import auth
from securecloud.api.common import READ_ERRORS, cursor_paginated
from securecloud.api.schemas import AuditEventOut

router = Router(tags=["audit-events"])


class AuditFilters(Schema):
    object: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


@router.get("", response={200: list[AuditEventOut], **READ_ERRORS}, summary="Read the audit log")
@cursor_paginated("-at")
def list_audit_events(request: HttpRequest, filters: Query[AuditFilters]) -> Any:
    """Events of the key's subtree; `object`: those of one reseller, customer (with its
    clients') or client; `since` / `until`: a time window (inclusive)."""
    actor = auth.actor(request)
    require(actor, Action.VIEW)
    events = AuditEvent.objects.visible_to(actor)
    if filters.object:
        events = events.filter(Q(object_code=filters.object) | Q(customer_code=filters.object))
    if filters.since:
        events = events.filter(at__gte=filters.since)
    if filters.until:
        events = events.filter(at__lte=filters.until)
    return events
