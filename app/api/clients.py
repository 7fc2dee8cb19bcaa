"""/api/v1/clients/: the client register over REST (JWT from /api/v1/security/login).

Besides the columns, a client's ``tax_kinds`` — ``{"增值税": "quarter", "印花税":
"none", …}`` — are read on ``GET /api/v1/clients/<id>`` and written by POST and PUT
(kinds not named keep theirs; a new client starts from his taxpayer type's
defaults); his obligations follow at once, as on the form.
"""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext, lazy_gettext as _l

from .. import clock
from ..data.interface import ScopedInterface
from ..domain.taxkinds import CYCLES
from ..i18n import message
from ..models import Client
from ..services import obligations as obligation_service
from ..services import taxkinds
from .base import ScopedRestApi

SCALARS = ["name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
           "contact_name", "contact_phone", "taxpayer_type", "tax_device_type",
           "tax_device_no", "tax_device_custody", "provides_address", "registered_address",
           "business_address", "onsite_bookkeeping", "ticket_pickup", "billing_cycle",
           "service_fee", "billing_state", "next_fee_date", "contract_start", "contract_end",
           "status", "note"]
RELATIONS = ["source", "bookkeeper", "field_agent", "client_group"]
# Related rows are shown by id and name only: a nested user would carry his
# password hash.
READ_FIELDS = ["id"] + SCALARS + [
    "source.id", "source.name", "bookkeeper.id", "bookkeeper.first_name",
    "bookkeeper.last_name", "field_agent.id", "field_agent.first_name",
    "field_agent.last_name", "client_group.id", "client_group.name"]
# 提供注册地址 is derived from the client's running address services: read, not written
WRITABLE = [c for c in SCALARS if c != "provides_address"] + RELATIONS
TAX_KINDS = "tax_kinds"


class ClientRestApi(ScopedRestApi):
    resource_name = "clients"
    list_title = show_title = add_title = edit_title = _l("Client API")
    class_permission_name = "ClientRestApi"
    datamodel = ScopedInterface(Client)
    list_columns = READ_FIELDS
    show_columns = READ_FIELDS
    add_columns = WRITABLE
    edit_columns = WRITABLE
    search_columns = ["name", "short_name", "credit_code", "legal_rep", "status",
                      "bookkeeper", "field_agent"]
    order_columns = ["id", "name", "credit_code", "status"]
    base_order = ("id", "desc")

    def check_body(self, columns: list, new: bool):
        """``tax_kinds`` is taken out of the body and checked (kind names and cycles);
        the rest as every resource's."""
        body = request.get_json(silent=True) if request.is_json else None
        g.api_tax_kinds = None
        if isinstance(body, dict) and TAX_KINDS in body:
            kinds, problem = self._read_kinds(body.pop(TAX_KINDS))
            if problem:
                return None, self.answer(422, {TAX_KINDS: [problem]})
            g.api_tax_kinds = kinds
        return super().check_body(columns, new)

    @staticmethod
    def _read_kinds(value):
        """(``{type id: cycle}``, None) or (None, the Chinese reason)."""
        if not isinstance(value, dict):
            return None, gettext('Give the tax kinds as {"kind name": "month" | "quarter" | '
                                 '"year" | "none"}.')
        names = taxkinds.names()
        kinds = {}
        for name, cycle in value.items():
            if name not in names:
                return None, message("kind_unknown", name=str(name)[:64])
            if cycle not in CYCLES:
                return None, message("choice")
            kinds[names[name]] = cycle
        return kinds, None

    def post_add(self, item):
        self._apply_kinds(item)

    def post_update(self, item):
        self._apply_kinds(item)

    def _apply_kinds(self, item):
        taxkinds.set_kinds(item.id, g.get("api_tax_kinds") or {})
        obligation_service.sync_client(item.id, clock.today(), clock.tz_name())

    def pre_get(self, data):
        super().pre_get(data)
        result = data.get("result")
        pk = data.get("id")
        if isinstance(result, dict) and pk is not None:
            result[TAX_KINDS] = taxkinds.named_kinds_of(int(pk))
