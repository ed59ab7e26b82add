"""What every template may ask about the signed-in user."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from securecloud.accounts.permissions import Abilities


def permissions(request: HttpRequest) -> dict[str, Any]:
    """`can`: what the user's role may do (`{% if can.send_emails %}`)."""
    return {"can": Abilities(getattr(request, "user", None) or AnonymousUser())}
