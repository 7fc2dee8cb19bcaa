"""/api/v1/journal/: the 日记账 over REST, on the same scope and the same lock as the
screen (an approved entry answers 422 to a put or delete and stays as it was)."""
from __future__ import annotations

from flask import g
from flask_babel import gettext, lazy_gettext as _l

from ..models import JournalEntry
from ..services import finance
from ..views.datamodel import ScopedInterface
from .base import ScopedRestApi

READ = ["id", "entry_date", "direction", "amount", "period_start", "period_end",
        "next_payment_date", "note", "status", "client.id", "client.name",
        "category.id", "category.name", "method.id", "method.name", "approved_at"]
# status and approval are changed by 审核 / 解锁 only, never by a put
WRITE = ["entry_date", "direction", "amount", "period_start", "period_end",
         "next_payment_date", "note", "client", "category", "method"]


class Locked(Exception):
    pass


class JournalRestApi(ScopedRestApi):
    resource_name = "journal"
    class_permission_name = "JournalRestApi"
    datamodel = ScopedInterface(JournalEntry)
    list_title = show_title = add_title = edit_title = _l("Journal API")
    list_columns = show_columns = READ
    add_columns = edit_columns = WRITE
    search_columns = ["entry_date", "direction", "status", "client"]
    order_columns = ["id", "entry_date", "amount"]
    base_order = ("id", "desc")

    def pre_add(self, item):
        item.status = "pending"
        item.created_by_id = getattr(g.user, "id", None)
        super().pre_add(item)

    def pre_update(self, item):
        self._refuse_locked(item)
        super().pre_update(item)

    def pre_delete(self, item):
        self._refuse_locked(item)

    def _refuse_locked(self, item):
        try:
            if finance.is_locked(item):
                raise finance.JournalError("locked")
            finance.lock_for_change(item)
        except finance.JournalError:
            self.datamodel.session.rollback()
            raise Locked()

    def _locked(self):
        from ..views.finance import LOCKED_MESSAGE

        return self.response_422(message=gettext(LOCKED_MESSAGE))

    def put_headless(self, pk):
        try:
            return super().put_headless(pk)
        except Locked:
            return self._locked()

    def delete_headless(self, pk):
        try:
            return super().delete_headless(pk)
        except Locked:
            return self._locked()
