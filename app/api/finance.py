"""/api/v1/journal/: the 日记账 over REST, on the same scope, rules and workflow as the
screen: an approved entry answers 422 to a put or delete and stays as it was; its
state only changes by 审核 / 解锁 (``POST /api/v1/journal/<id>/approve`` …). An
income entry with a client is refused (422: a client's payment is a receipt, see
/api/v1/receipts/), and an entry a receipt posted answers 422 to every change."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..data.interface import ScopedInterface
from ..models import JournalEntry
from .base import ScopedRestApi

READ = ["id", "entry_date", "direction", "amount", "period_start", "period_end",
        "next_payment_date", "note", "status", "version", "client.id", "client.name",
        "category.id", "category.name", "method.id", "method.name", "approved_at"]
# status, version and approval are changed by the workflow's steps only, never by a put;
# no next payment date (下次收费日期 is derived from the ledger, never typed)
WRITE = ["entry_date", "direction", "amount", "period_start", "period_end", "note",
         "client", "category", "method"]


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
