"""THE grants table: what each default role may do, in one place.

``flask init`` adds these to each role (never removing what an Admin granted since)
and fails loudly when a name here is not a permission of a registered view or menu
entry — a renamed view cannot silently take a role's rights away. Admin gets every
permission (FAB adds each new one to the admin role itself).

Keys are FAB's permission-view names: a view's ``class_permission_name`` (its
``can_*`` permissions, workflow steps included: ``can_approve`` …) or a menu entry's
name (``menu_access``). Visibility switches of the one scope live here too:
``can_see_all`` on ``Clients`` (see every client), ``can_see_client_todos`` on
``Todos`` (see the todos of visible clients, not only one's own).
"""
from __future__ import annotations

MENU = ("menu_access",)
READ = ("can_list", "can_show")
WRITE = READ + ("can_add", "can_edit")
FULL = WRITE + ("can_delete",)
API_READ = ("can_get", "can_info")
API_WRITE = API_READ + ("can_put",)
API_FULL = API_WRITE + ("can_post", "can_delete")

_CLIENT_MENUS = {"Clients": MENU, "ClientList": MENU, "ClientBasic": MENU}
_OBLIGATION_MENUS = {"Obligations": MENU, "AllObligations": MENU, "ObligationHistory": MENU,
                     "FilingBoard": MENU}
_BOARD = ("can_board", "can_export")
_OBLIGATION_WORK = READ + ("can_edit", "can_complete", "can_skip", "can_export")
_HISTORY = ("can_list", "can_show", "can_export")
_FINANCE_MENUS = {"Finance": MENU, "Journal": MENU, "Arrears": MENU}
#: 应收: charges, receipts and statements; Finance approves receipts, a Manager also
#: unlocks them, refunds and writes off bad debt
_LEDGER_MENUS = {"Charges": MENU, "Receipts": MENU, "Statement": MENU}
_LEDGER_FINANCE = {
    **_LEDGER_MENUS,
    # 调整 is approved by Finance or a Manager (never its author); 手工核销 by either
    "ChargeModelView": WRITE + ("can_export", "can_approve"),
    "ReceiptModelView": WRITE + ("can_export", "can_approve", "can_match"),
    "ReceiptRestApi": API_WRITE + ("can_post",),
    "StatementView": ("can_index", "can_export"),
}
_LEDGER_MANAGER = {
    **_LEDGER_FINANCE,
    "ChargeModelView": WRITE + ("can_export", "can_write_off", "can_approve"),
    "ReceiptModelView": FULL + ("can_export", "can_approve", "can_unlock", "can_refund",
                                "can_match"),
    "ReceiptRestApi": API_FULL,
}
_JOURNAL_FULL = FULL + ("can_export",)
_INVOICE_ALL = FULL + ("can_export", "can_approve", "can_issue", "can_void", "can_monthly")
_SALES_MENUS = {"Sales": MENU, "Leads": MENU, "LeadPool": MENU, "FollowUps": MENU,
                "MissedFollowUps": MENU, "Contacts": MENU, "SalesContracts": MENU}
#: what a salesperson does with his leads (销售); a sales manager adds reassigning,
#: 批注, 审核 and the reports
_SALES_WORK = {
    **_SALES_MENUS,
    "LeadModelView": WRITE + ("can_export",),
    "LeadPoolView": ("can_list", "can_show", "can_export", "can_claim"),
    "FollowUpModelView": WRITE + ("can_export",),
    "MissedFollowUpView": READ + ("can_export",),
    "ContactModelView": WRITE + ("can_export",),
    "SalesContractModelView": WRITE + ("can_export", "can_submit"),
    "SalesContractLineView": FULL,
    "LeadRestApi": API_WRITE + ("can_post",),
    "LeadImport": MENU, "LeadImportView": ("can_import",),
}
_SERVICE_MENUS = {"ClientService": MENU, "ServiceRequests": MENU}
#: 业务请求 (seed 002): staff take, accept, progress and note their clients' requests;
#: a Manager also dispatches, returns to the pool, confirms or cancels for the client
_SERVICE_WORK = {**_SERVICE_MENUS,
                 "ServiceRequestModelView": WRITE + ("can_claim", "can_accept", "can_note")}
_STATS_MENUS = {"Invoices": MENU, "InvoiceMonthly": MENU, "MonthlyStats": MENU,
                "YearlyStats": MENU}

GRANTS: dict[str, dict[str, tuple]] = {
    # 经理: sees every client; approves contracts, receipts and invoices; unlocks;
    # assigns accountants; imports clients; edits the 催费 notice
    "Manager": {
        **_SALES_WORK,
        "LeadModelView": FULL + ("can_export", "can_reassign"),
        "FollowUpModelView": WRITE + ("can_export", "can_comment"),
        "ContactModelView": FULL + ("can_export",),
        "SalesContractModelView": FULL + ("can_export", "can_submit", "can_approve"),
        "LeadRestApi": API_FULL,
        "SalesReports": MENU, "SalesReportView": ("can_report",),
        **_CLIENT_MENUS, "Clients": MENU + ("can_see_all",),
        "ClientModelView": FULL + ("can_export", "can_assign"),
        "ClientBasicView": READ, "ClientRestApi": API_FULL,
        "PortalLoginView": ("can_create",),
        **_SERVICE_MENUS,
        "ServiceRequestModelView": WRITE + ("can_export", "can_dispatch", "can_claim",
                                            "can_accept", "can_note"),
        "ServiceItems": MENU, "ServiceItemView": FULL,
        "Complaints": MENU, "ComplaintModelView": READ + ("can_handle",),
        "ServiceRatings": MENU, "ServiceRatingView": READ,
        "StaffPerformance": MENU, "StaffPerformanceView": ("can_index",),
        "ClientImport": MENU, "ClientImportView": ("can_import",),
        "Todos": MENU + ("can_see_client_todos",),
        "TodoModelView": FULL + ("can_export", "can_complete"),
        "Contracts": MENU,
        "ContractModelView": FULL + ("can_export", "can_renew", "can_approve"),
        "OnsiteBookkeeping": MENU, "OnsiteBookkeepingView": READ + ("can_export",),
        "AddressServices": MENU,
        "AddressServiceModelView": FULL + ("can_export", "can_renew"),
        "ClientCredentials": MENU, "ClientCredentialView": FULL + ("can_export", "can_reveal"),
        **_OBLIGATION_MENUS,
        "ObligationModelView": _OBLIGATION_WORK + ("can_undo",),
        "ObligationRecordView": _HISTORY, "FilingBoardView": _BOARD,
        "FilingCalendar": MENU, "FilingCalendarView": ("can_year_view",),
        **_FINANCE_MENUS, **_STATS_MENUS,
        "JournalModelView": _JOURNAL_FULL + ("can_approve", "can_unlock"),
        "JournalRestApi": API_FULL,
        "ArrearsView": READ + ("can_export", "can_dun"),
        **_LEDGER_MANAGER,
        "InvoiceModelView": _INVOICE_ALL,
        "StatsView": ("can_monthly", "can_yearly"),
        "ManagementReports": MENU, "ManagementReportView": ("can_index", "can_export"),
        "Administration": MENU, "DunningSettings": MENU,
        "FinanceSettingsView": ("can_this_form_get", "can_this_form_post"),
    },
    # 记账会计: his clients (self, groups, subordinates); monthly filings; records
    # receipts and requests invoices for his clients, duns them
    "Accountant": {
        **_CLIENT_MENUS,
        "ClientModelView": WRITE + ("can_export",), "ClientBasicView": READ,
        "ClientRestApi": API_WRITE, "PortalLoginView": ("can_create",),
        **_SERVICE_WORK,
        "Todos": MENU + ("can_see_client_todos",),
        "TodoModelView": WRITE + ("can_complete",),
        "Contracts": MENU, "ContractModelView": READ + ("can_add", "can_renew"),
        "OnsiteBookkeeping": MENU, "OnsiteBookkeepingView": READ,
        "AddressServices": MENU, "AddressServiceModelView": READ + ("can_renew",),
        "ClientCredentials": MENU, "ClientCredentialView": WRITE + ("can_reveal",),
        **_OBLIGATION_MENUS,
        "ObligationModelView": _OBLIGATION_WORK, "ObligationRecordView": _HISTORY,
        "FilingBoardView": _BOARD,
        **_FINANCE_MENUS, "Invoices": MENU,
        "JournalModelView": READ + ("can_add",),
        "JournalRestApi": API_READ + ("can_post",),
        "ArrearsView": ("can_list", "can_dun"),
        **_LEDGER_MENUS, "ChargeModelView": READ,
        "ReceiptModelView": READ + ("can_add",), "StatementView": ("can_index",),
        "ReceiptRestApi": API_READ + ("can_post",),
        "InvoiceModelView": READ + ("can_add",),
    },
    # 外勤: his clients read-only; his own todos (no can_see_client_todos:
    # 外勤只看分配给自己的待办); ticket pickup and on-site work
    "FieldAgent": {
        **_CLIENT_MENUS,
        "ClientModelView": READ, "ClientBasicView": READ, "ClientRestApi": API_READ,
        **_SERVICE_WORK,
        "Todos": MENU, "TodoModelView": WRITE + ("can_complete",),
        "OnsiteBookkeeping": MENU, "OnsiteBookkeepingView": READ,
        "AddressServices": MENU, "AddressServiceModelView": READ,
        **_OBLIGATION_MENUS,
        "ObligationModelView": _OBLIGATION_WORK, "ObligationRecordView": _HISTORY,
        "FilingBoardView": ("can_board",),
    },
    # 财务: every client's money data; the journal in full and 审核 (no unlock, no
    # import); the invoice register; arrears and 催费; statistics
    "Finance": {
        **_CLIENT_MENUS, "Clients": MENU + ("can_see_all",),
        "ClientModelView": READ + ("can_export",), "ClientBasicView": READ,
        "ClientRestApi": API_READ,
        "Contracts": MENU, "ContractModelView": READ,
        "AddressServices": MENU, "AddressServiceModelView": READ,
        **_OBLIGATION_MENUS,
        "ObligationModelView": READ + ("can_export",), "ObligationRecordView": _HISTORY,
        "FilingBoardView": _BOARD,
        **_FINANCE_MENUS, **_STATS_MENUS,
        "JournalModelView": _JOURNAL_FULL + ("can_approve",),
        "JournalRestApi": API_FULL,
        "ArrearsView": READ + ("can_export", "can_dun"),
        **_LEDGER_FINANCE,
        "InvoiceModelView": _INVOICE_ALL,
        "StatsView": ("can_monthly", "can_yearly"),
        "ManagementReports": MENU, "ManagementReportView": ("can_index", "can_export"),
    },
    # 业务员: his leads, their follow-ups and contacts, the pool, his sales contracts;
    # sees the clients he won; requests invoices for them
    "Sales": {
        **_SALES_WORK,
        **_CLIENT_MENUS,
        "ClientModelView": READ + ("can_add",), "ClientBasicView": READ,
        "ClientRestApi": API_READ,
        "Todos": MENU + ("can_see_client_todos",),
        "TodoModelView": WRITE + ("can_complete",),
        "Contracts": MENU, "ContractModelView": READ + ("can_add",),
        "Finance": MENU, "Invoices": MENU, "InvoiceModelView": ("can_list", "can_add"),
    },
}

#: every staff role may see his profile and change his own password
SELF_SERVICE = {
    # 我的今日: one's own visits and todos, on a phone
    "MyDay": MENU, "MyDayView": ("can_index",),
    # 通知: one's own notices (the bell)
    "NoticeView": ("can_index",),
    "StaffUserView": ("can_userinfo", "resetmypassword"),
    "UserInfoEditView": ("can_this_form_get", "can_this_form_post"),
    "ResetMyPasswordView": ("can_this_form_get", "can_this_form_post"),
}

#: 客户门户 (seed 002): the role of a client's login. It holds NO permission: a
#: client user reaches only the portal (/portal/), whose pages check his portal
#: membership, never a grant; app.security.portal answers 403 to him on every other
#: URL, whatever a role editor might add to it.
CLIENT_ROLE = "ClientUser"

#: the roles ``flask init`` makes (Admin is FAB's own, with every permission)
DEFAULT_ROLES = ["Admin", "Manager", "Accountant", "FieldAgent", "Finance", "Sales",
                 CLIENT_ROLE]


def grants_of(role: str) -> dict[str, tuple]:
    """A default role's grants, self-service included (empty for Admin: it has all)."""
    if role in ("Admin", CLIENT_ROLE):
        return {}
    return {**GRANTS.get(role, {}), **SELF_SERVICE}
