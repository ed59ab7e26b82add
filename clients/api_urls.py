"""The agent protocol (JSON over HTTP), under /api/v1/. No trailing slashes."""

from django.urls import path, re_path

from clients import api

urlpatterns = [
    path("agent/connect", api.connect, name="api-agent-connect"),
    path("agent/refresh", api.refresh, name="api-agent-refresh"),
    path("agent/backups", api.backups, name="api-agent-backups"),
    path("agent/status", api.status, name="api-agent-status"),
    path("openapi.json", api.openapi, name="api-openapi"),
    re_path(r"^(?P<path>.*)$", api.not_found),
]
