"""/api/v1/leads/: 意向客户 over REST, on the same scope, field rules and 防撞单 check
as the screens (both run on flush); a new lead gets its 1-3-7 follow-ups."""
from __future__ import annotations

from flask import g
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_babel import lazy_gettext as _l

from .. import clock
from ..data.interface import ScopedInterface
from ..models import Lead
from ..services import sales as sales_service
from .base import ScopedRestApi

SCALARS = ["name", "credit_code", "contact_name", "mobile", "wechat", "qq", "landline",
           "email", "industry", "region", "need_company_name", "need_address", "need_quote",
           "need_bookkeeping", "note", "stage"]
READ_FIELDS = ["id"] + SCALARS + ["source.id", "source.name", "owner.id", "owner.first_name",
                                  "owner.last_name", "last_follow_up_on", "created_on"]
WRITABLE = SCALARS + ["source", "owner"]


class LeadRestApi(ScopedRestApi):
    resource_name = "leads"
    list_title = show_title = add_title = edit_title = _l("Lead API")
    class_permission_name = "LeadRestApi"
    datamodel = ScopedInterface(Lead)
    base_filters = [["stage", FilterNotEqual, "pool"]]
    list_columns = READ_FIELDS
    show_columns = READ_FIELDS
    add_columns = WRITABLE
    edit_columns = WRITABLE
    search_columns = ["name", "stage", "owner", "industry", "region"]
    order_columns = ["id", "name", "stage", "created_on"]
    base_order = ("id", "desc")

    def pre_add(self, item):
        sales_service.check_stage(item)
        sales_service.prepare_new_lead(item, g.user, clock.today())
        super().pre_add(item)

    def post_add(self, item):
        sales_service.start_cadence(item, clock.today())
        self.datamodel.session.commit()

    def pre_update(self, item):
        sales_service.check_stage(item)
        super().pre_update(item)
