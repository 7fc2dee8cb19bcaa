"""One client, one page: under the client's fields, a panel per record kind that
belongs to him — 报税事项, 办理记录, 合同, 提供地址, 日记账, 应收, 收款, 发票, 待办, 客户账号 and
his 操作日志 — each read through its own screen's view, so each panel is scoped,
shows only the fields the user may see (字段可见性), offers that screen's actions
for one row (完成, 续签, 审核 … as the user holds them) and links to the full list
filtered to the client (``?client=<id>``). One statement per panel (its first rows
with the count beside them); a panel whose screen the user may not open is not shown.

The panels are declarations (:data:`PANELS`); a new module that belongs to a
client adds a line here.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from flask import url_for
from flask_babel import gettext, lazy_gettext as _l

ROWS = 8


@dataclass(frozen=True)
class Panel:
    key: str
    title: object                      # a lazy translation
    view: str                          # the registered view's class name
    columns: tuple = ()                # () = the view's list columns without the client
    order: tuple | None = None         # (column, direction); None = the view's own
    #: the row actions offered (names); None = every single-row action of the view
    actions: tuple | None = None


PANELS = (
    Panel("obligations", _l("Obligations"), "ObligationModelView",
          ("type", "period", "deadline", "assignee"), ("deadline", "asc"),
          actions=("complete", "zero", "report")),
    Panel("history", _l("Obligation history"), "ObligationRecordView",
          order=("id", "desc"), actions=()),
    Panel("contracts", _l("Contracts"), "ContractModelView"),
    Panel("addresses", _l("Address service"), "AddressServiceModelView"),
    Panel("journal", _l("Journal"), "JournalModelView"),
    Panel("charges", _l("Charges"), "ChargeModelView",
          ("kind", "period", "due_date", "amount", "paid", "state"), ("due_date", "desc"),
          actions=()),
    Panel("receipts", _l("Receipts"), "ReceiptModelView",
          ("number", "received_on", "amount", "matched", "status"), ("received_on", "desc")),
    Panel("invoices", _l("Invoice register"), "InvoiceModelView"),
    Panel("todos", _l("Todos"), "TodoModelView"),
    Panel("credentials", _l("Client logins"), "ClientCredentialView"),
    Panel("contacts", _l("Contacts"), "ContactModelView"),
    Panel("lead", _l("Lead origin"), "LeadModelView", actions=()),
    Panel("sales_contracts", _l("Sales contracts"), "SalesContractModelView", actions=()),
    Panel("audit", _l("Audit log"), "AuditLogView", ("at", "username", "action", "changes"),
          ("id", "desc"), actions=()),
)


@dataclass
class PanelData:
    key: str
    title: object
    count: int
    labels: list
    rows: list                    # [(show url or None, [values], [(action, label, confirm, url)])]
    list_url: str | None
    add_url: str | None
    csrf: bool = True
    extra: dict = field(default_factory=dict)


def _plain(value):
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return value


def _view(appbuilder, name):
    for view in appbuilder.baseviews:
        if view.__class__.__name__ == name:
            return view
    return None


def _row_actions(view, item, sm, only) -> list:
    if not getattr(view, "actions", None) or only == ():
        return []
    actions = view._actions_for(item) if getattr(view, "workflow", None) else view.actions
    out = []
    version = view.row_version(item)
    for name, act in actions.items():
        if not act.single or (only is not None and name not in only):
            continue
        if not sm.has_access(view.get_action_permission_name(name), view.class_permission_name):
            continue
        args = {"name": name, "pk": item.id}
        if version is not None:
            args["v"] = version
        out.append((name, gettext(str(act.text)),
                    gettext(str(act.confirmation)) if act.confirmation else "", act.icon,
                    url_for(f"{view.endpoint}.action", **args)))
    return out


def build(appbuilder, client_id: int) -> list[PanelData]:
    """The panels of this client the current user may see."""
    sm = appbuilder.sm
    panels = []
    for spec in PANELS:
        view = _view(appbuilder, spec.view)
        if view is None or not sm.has_access("can_list", view.class_permission_name):
            continue
        datamodel = view.datamodel
        columns = [c for c in (spec.columns or view.list_columns)
                   if not c.startswith("client")]
        columns = view.visible(columns) if hasattr(view, "visible") else columns
        filters = datamodel.get_filters([]).get_joined_filters(view._base_filters)
        view.filter_to_client(filters, client_id)
        order_column, direction = spec.order or view.base_order or ("", "")
        count, items = datamodel.query(filters, order_column, direction, page=0,
                                       page_size=ROWS, load_columns=columns,
                                       window_count=True)
        can_show = sm.has_access("can_show", view.class_permission_name) and \
            "show" not in getattr(view, "exclude_route_methods", set())
        rows = []
        for item, values in zip(items, datamodel.get_values(items, columns)):
            shown = [view.formatters_columns[c](values[c]) if c in view.formatters_columns
                     else _plain(values[c]) for c in columns]
            rows.append((url_for(f"{view.endpoint}.show", pk=item.id) if can_show else None,
                         shown, _row_actions(view, item, sm, spec.actions)))
        list_url = url_for(f"{view.endpoint}.list", client=client_id)
        can_add = sm.has_access("can_add", view.class_permission_name) and \
            "add" not in getattr(view, "exclude_route_methods", set())
        panels.append(PanelData(
            key=spec.key, title=spec.title, count=count,
            labels=[view.label_columns.get(c, c) for c in columns], rows=rows,
            list_url=list_url,
            add_url=url_for(f"{view.endpoint}.add", client=client_id) if can_add else None))
    return panels
