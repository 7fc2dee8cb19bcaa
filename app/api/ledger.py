"""/api/v1/receipts/: 收款 over REST, on the same scope, rules and workflow as the
screen: an approved receipt answers 422 to a put or delete and stays as it was; it
changes state only by 审核 / 解锁 (``POST /api/v1/receipts/<id>/approve`` …), which
number and match it exactly as the screen does."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..data.interface import ScopedInterface
from ..models import Receipt
from .base import ScopedRestApi

READ = ["id", "received_on", "amount", "payer", "note", "status", "version", "number",
        "matched", "refunded", "client.id", "client.name", "method.id", "method.name",
        "approved_at"]
# status, number, matches and approval change by the workflow's steps only
WRITE = ["received_on", "amount", "payer", "note", "client", "method"]


class ReceiptRestApi(ScopedRestApi):
    resource_name = "receipts"
    class_permission_name = "ReceiptRestApi"
    datamodel = ScopedInterface(Receipt)
    list_title = show_title = add_title = edit_title = _l("Receipts API")
    list_columns = show_columns = READ
    add_columns = edit_columns = WRITE
    search_columns = ["received_on", "status", "client", "number"]
    order_columns = ["id", "received_on", "amount"]
    base_order = ("id", "desc")
