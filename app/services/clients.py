"""Client lifecycle: deleting is a status, restoring returns to 代理记账."""
from __future__ import annotations

from dataclasses import dataclass

from ..domain.choices import STATUS_ACTIVE, STATUS_DELETED
from ..extensions import db


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
