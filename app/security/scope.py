"""THE visibility rule, in two forms side by side: a SQL condition for queries and a
check for one object. Every list, show, edit, delete, action, export, dropdown and
API endpoint reaches rows through :func:`condition` (``ScopedInterface`` applies it),
and :func:`allows` answers the same question for one loaded row.

Rule (SPEC, issue 3): a user holding ``can_see_all`` on ``Clients`` sees every
client; anyone else sees the clients where he is 记账会计 or 外勤会计. Records that
belong to a client inherit the client's visibility through ``client_id``.
"""
from __future__ import annotations

from sqlalchemy import false, or_, select

from ..models import Client

SEE_ALL_PERMISSION = ("can_see_all", "Clients")


def sees_all(user, has_permission) -> bool:
    """Whether ``user`` sees every client. ``has_permission(perm, view)`` is the
    security manager's check, passed in so this module stays free of Flask."""
    if user is None:
        return True  # no user: CLI, jobs and migrations act as the system
    if not getattr(user, "is_authenticated", False):
        return False
    return has_permission(*SEE_ALL_PERMISSION)


def client_condition(user):
    """SQL condition on ``Client`` for a user who does not see all."""
    if user is None or getattr(user, "id", None) is None:
        return false()
    return or_(Client.bookkeeper_id == user.id, Client.field_agent_id == user.id)


def condition(user, model, has_permission):
    """The WHERE condition limiting ``model`` to what ``user`` may see, or None for all.

    Models that are not client-owned (dictionaries, settings) are not row-scoped.
    """
    if sees_all(user, has_permission):
        return None
    if model is Client:
        return client_condition(user)
    if hasattr(model, "client_id"):
        visible = select(Client.id).where(client_condition(user))
        return model.client_id.in_(visible)
    return None


def allows(user, obj, has_permission) -> bool:
    """The object form of :func:`condition`: may ``user`` see this loaded row?"""
    if sees_all(user, has_permission):
        return True
    client = obj if isinstance(obj, Client) else getattr(obj, "client", None)
    if client is None:
        return not hasattr(obj, "client_id") or obj.client_id is None
    uid = getattr(user, "id", None)
    return uid is not None and uid in (client.bookkeeper_id, client.field_agent_id)
