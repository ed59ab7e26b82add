"""Who reads and who acts, as the services' and access helpers' signatures name them."""

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

# Whoever a request is from (a view passes request.user): scoped reads take one.
Viewer: TypeAlias = AbstractBaseUser | AnonymousUser
# Who makes a change: a login, or None for the system (a command, an agent, a task).
ActingUser: TypeAlias = AbstractBaseUser | AnonymousUser | None
