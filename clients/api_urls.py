"""The agent protocol (JSON over HTTP), under /api/v1/."""

urlpatterns: list = []
