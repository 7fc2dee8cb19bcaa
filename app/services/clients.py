"""Client lifecycle: deleting is a status, restoring returns to 代理记账."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.choices import STATUS_ACTIVE, STATUS_DELETED
from ..extensions import db
from ..models import Staff


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0


def set_status(clients, status: str) -> BulkResult:
    """Set ``status`` on the given (already scoped) clients in one transaction."""
    result = BulkResult()
    for client in clients:
        if client.status == status:
            result.unchanged += 1
        else:
            client.status = status
            result.changed += 1
    db.session.commit()
    return result


def soft_delete(clients) -> BulkResult:
    """Mark clients 已删除. Nothing is removed: their history stays."""
    return set_status(clients, STATUS_DELETED)


def restore(clients) -> BulkResult:
    """A client who comes back returns to 代理记账."""
    return set_status(clients, STATUS_ACTIVE)


def assignable_staff() -> list:
    """Active staff, in name order, to choose 记账会计 / 外勤会计 from."""
    return (db.session.query(Staff).filter(Staff.active.is_(True))
            .order_by(Staff.last_name, Staff.first_name).all())


def assign(clients, bookkeeper_id: int | None, field_agent_id: int | None, check=None) -> int:
    """Set 记账会计 and/or 外勤会计 (None leaves it unchanged) on already scoped clients,
    all or none. ``check(client)`` refuses a client that would leave the user's scope.

    :raises app.security.scope.ScopeError: from ``check``; nothing is saved.
    """
    valid = {s.id for s in assignable_staff()}
    for staff_id in (bookkeeper_id, field_agent_id):
        if staff_id is not None and staff_id not in valid:
            raise ValueError(staff_id)
    for client in clients:
        if bookkeeper_id is not None:
            client.bookkeeper_id = bookkeeper_id
        if field_agent_id is not None:
            client.field_agent_id = field_agent_id
        if check is not None:
            check(client)
    db.session.commit()
    return len(clients)
