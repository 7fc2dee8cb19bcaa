"""/api/v1/clients/: the client register over REST (JWT from /api/v1/security/login)."""
from __future__ import annotations


from flask_babel import lazy_gettext as _l

from ..data.interface import ScopedInterface
from ..models import Client
from .base import ScopedRestApi

SCALARS = ["name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
           "contact_name", "contact_phone", "taxpayer_type", "tax_device_type",
           "tax_device_no", "tax_device_custody", "provides_address", "registered_address",
           "business_address", "onsite_bookkeeping", "billing_cycle", "service_fee",
           "billing_state", "next_fee_date", "contract_start", "contract_end", "status",
           "note"]
RELATIONS = ["source", "bookkeeper", "field_agent", "client_group"]
# Related rows are shown by id and name only: a nested user would carry his
# password hash.
READ_FIELDS = ["id"] + SCALARS + [
    "source.id", "source.name", "bookkeeper.id", "bookkeeper.first_name",
    "bookkeeper.last_name", "field_agent.id", "field_agent.first_name",
    "field_agent.last_name", "client_group.id", "client_group.name"]
WRITABLE = SCALARS + RELATIONS


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
