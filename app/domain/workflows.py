"""The lifecycle of every document with states: one declaration each.

日记账 (seed 004: 财务的审核是对单据的锁定和解锁), 开票登记 (seed 003), 合同 (审核 by a
manager, 续签). What a step does beyond moving the state and stamping (a receipt
posting its journal entry, a renewal moving the contract's term) is in
``app.services.transitions.EFFECTS``.
"""
from __future__ import annotations

from .choices import (APPROVAL_STATUS, CHARGE_STATE, CONTRACT_STATUS, INVOICE_STATUS, N_,
                      COMPLAINT_STATUS, SALES_CONTRACT_STATUS, SERVICE_REQUEST_STATUS)
from .workflow import BY, CLEAR, NOW, Transition, Workflow

JOURNAL = Workflow(
    label=N_("journal entry"),
    states=APPROVAL_STATUS,
    initial="pending",
    permission_view="JournalModelView",
    locked_in=frozenset({"approved"}),
    transitions=(
        Transition("approve", N_("Approve"), ("pending",), "approved",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected entries? Approved entries are locked."),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Journal entries waiting for approval")),
        Transition("unlock", N_("Unlock"), ("approved",), "pending",
                   permission="can_unlock", needs_reason=True, icon="fa-unlock",
                   stamp={"approved_by_id": CLEAR, "approved_at": CLEAR},
                   audit_action="unlock", multiple=False),
    ),
)

INVOICE = Workflow(
    label=N_("invoice"),
    states=INVOICE_STATUS,
    initial="applied",
    permission_view="InvoiceModelView",
    locked_in=frozenset({"approved", "issued", "void"}),
    transitions=(
        Transition("approve", N_("Approve"), ("applied",), "approved",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected invoice requests?"),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Invoice requests waiting for approval")),
        Transition("issue", N_("Issue"), ("approved",), "issued", permission="can_issue",
                   inputs=("invoice_number",), icon="fa-file-text-o",
                   stamp={"issued_by_id": BY, "issued_at": NOW}, multiple=False),
        Transition("void", N_("Void"), ("issued",), "void", permission="can_void",
                   needs_reason=True, reason_column="void_reason", icon="fa-ban",
                   stamp={"voided_by_id": BY, "voided_at": NOW}, multiple=False),
    ),
)

CONTRACT = Workflow(
    label=N_("contract"),
    states=CONTRACT_STATUS,
    initial="pending",
    permission_view="ContractModelView",
    locked_in=frozenset({"approved"}),
    transitions=(
        Transition("approve", N_("Approve"), ("pending",), "approved",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected contracts? Approved contracts are "
                              "locked."),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Contracts waiting for approval")),
        # 续签: the term moves one year on (EFFECTS) and needs approval again
        Transition("renew", N_("Renew"), ("pending", "approved"), "pending",
                   permission="can_renew", icon="fa-refresh",
                   confirm=N_("Renew the selected contracts for one more year? They will "
                              "need approval again."),
                   stamp={"approved_by_id": CLEAR, "approved_at": CLEAR}),
    ),
)

#: 销售合同 (seed 001): the salesperson 提交s it, a manager 审核s it (never its author);
#: approval locks it and makes the lead a client (``transitions.EFFECTS``); 退回 sends
#: it back to the salesperson with a reason
SALES_CONTRACT = Workflow(
    label=N_("sales contract"),
    states=SALES_CONTRACT_STATUS,
    initial="draft",
    permission_view="SalesContractModelView",
    locked_in=frozenset({"pending", "approved"}),
    transitions=(
        Transition("submit", N_("Submit for approval"), ("draft",), "pending",
                   permission="can_submit", icon="fa-send",
                   confirm=N_("Submit the selected sales contracts for approval? They "
                              "cannot be changed while they wait.")),
        Transition("approve", N_("Approve"), ("pending",), "approved",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected sales contracts? Each lead becomes a "
                              "client and the contract is locked."),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Sales contracts waiting for approval")),
        Transition("reject", N_("Send back"), ("pending",), "draft",
                   permission="can_approve", needs_reason=True, icon="fa-reply",
                   multiple=False),
    ),
)

#: 业务请求 (seed 002): a new request waits in the pool (待分配) unless it went to the
#: client's accountant; a Manager 分配s it, a staff member 抢单s it from the pool; the
#: assignee 接单s it (else the scheduler 退回s it to the pool after the item's hours),
#: 办结s it and the client 确认s it. The client or a Manager may 取消 it before work
#: starts. Who may fire what beyond the permission (the assignee accepts, the client
#: confirms his own) is checked by ``app.services.service_requests``.
SERVICE_REQUEST = Workflow(
    label=N_("service request"),
    states=SERVICE_REQUEST_STATUS,
    initial="new",
    permission_view="ServiceRequestModelView",
    locked_in=frozenset({"done", "cancelled"}),
    transitions=(
        Transition("dispatch", N_("Dispatch"), ("new", "assigned"), "assigned",
                   permission="can_dispatch", inputs=("assignee_id",), icon="fa-share",
                   stamp={"assigned_at": NOW, "accepted_at": CLEAR}, multiple=False),
        Transition("claim", N_("Take it"), ("new",), "assigned", permission="can_claim",
                   icon="fa-hand-paper-o", stamp={"assignee_id": BY, "assigned_at": NOW},
                   confirm=N_("Take the selected requests? You will handle them.")),
        Transition("accept", N_("Accept"), ("assigned",), "in_progress",
                   permission="can_accept", icon="fa-check", stamp={"accepted_at": NOW},
                   confirm=N_("Accept the selected requests and start them?")),
        Transition("release", N_("Back to the pool"), ("assigned",), "new",
                   permission="can_dispatch", icon="fa-undo",
                   stamp={"assignee_id": CLEAR, "assigned_at": CLEAR}),
        Transition("finish", N_("Done, ask the client to confirm"), ("in_progress",),
                   "waiting", permission="can_accept", icon="fa-flag-checkered",
                   stamp={"finished_at": NOW},
                   confirm=N_("Mark the selected requests done? The client is asked to "
                              "confirm.")),
        Transition("confirm", N_("Confirm completion"), ("waiting",), "done",
                   permission="can_dispatch", icon="fa-check-circle",
                   stamp={"closed_at": NOW}),
        Transition("reopen", N_("Not done yet"), ("waiting",), "in_progress",
                   permission="can_accept", icon="fa-repeat",
                   stamp={"finished_at": CLEAR}, needs_reason=True, multiple=False),
        Transition("cancel", N_("Cancel"), ("new", "assigned"), "cancelled",
                   permission="can_dispatch", icon="fa-ban", stamp={"closed_at": NOW},
                   needs_reason=True, multiple=False),
    ),
)

#: 投诉 (seed 002): a client's complaint goes to the Managers, one of them takes it
#: (处理中) and closes it with what was done
COMPLAINT = Workflow(
    label=N_("complaint"),
    states=COMPLAINT_STATUS,
    initial="open",
    permission_view="ComplaintModelView",
    locked_in=frozenset({"closed"}),
    transitions=(
        Transition("handle", N_("Take it on"), ("open",), "handling", permission="can_handle",
                   icon="fa-hand-paper-o", stamp={"handled_by_id": BY}, inbox=True,
                   inbox_label=N_("Complaints waiting for a manager"),
                   confirm=N_("Take on the selected complaints?")),
        Transition("close", N_("Close"), ("open", "handling"), "closed",
                   permission="can_handle", needs_reason=True, reason_column="resolution",
                   icon="fa-check", stamp={"handled_by_id": BY, "closed_at": NOW},
                   multiple=False),
    ),
)

#: 收款 (seeds 001, 004: 到款单 → 财务审核 → 应收减少): Finance approves (never the
#: author); approval locks the receipt, gives it its 收据 number, matches it to the
#: client's oldest open charges and posts its one journal entry (``transitions.EFFECTS``);
#: 解锁 (with a reason) takes the matches and the entry back until it is approved again
RECEIPT = Workflow(
    label=N_("receipt"),
    states=APPROVAL_STATUS,
    initial="pending",
    permission_view="ReceiptModelView",
    locked_in=frozenset({"approved"}),
    transitions=(
        Transition("approve", N_("Approve"), ("pending",), "approved",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected receipts? Each is numbered, matched "
                              "to the client's oldest open charges, added to the journal "
                              "and locked."),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Receipts waiting for approval")),
        Transition("unlock", N_("Unlock"), ("approved",), "pending",
                   permission="can_unlock", needs_reason=True, icon="fa-unlock",
                   stamp={"approved_by_id": CLEAR, "approved_at": CLEAR},
                   audit_action="unlock", multiple=False),
    ),
)

#: 调整 (issue 14: "manual adjustments, with reason, approved"): an adjustment typed on
#: the 应收 screen is 待审核 (``pending``) and counts nowhere — arrears, statements,
#: matching — until a Manager or Finance approves it (never its author): it becomes
#: an open charge, a prepayment pays it (``transitions.EFFECTS``). 退回 (with a
#: reason) refuses it for good. The states are the charge's own ``state``: the
#: charge run's and one-off charges start open and never take a step.
ADJUSTMENT = Workflow(
    label=N_("adjustment"),
    states=CHARGE_STATE,
    initial="pending",
    permission_view="ChargeModelView",
    status_column="state",
    locked_in=frozenset({"paid", "written_off", "rejected"}),
    transitions=(
        Transition("approve", N_("Approve"), ("pending",), "open",
                   permission="can_approve", not_by_author=True, icon="fa-check-square-o",
                   confirm=N_("Approve the selected adjustments? From then on they count "
                              "as owed by the client."),
                   stamp={"approved_by_id": BY, "approved_at": NOW}, inbox=True,
                   inbox_label=N_("Adjustments waiting for approval")),
        Transition("reject", N_("Reject"), ("pending",), "rejected",
                   permission="can_approve", needs_reason=True, icon="fa-times",
                   multiple=False),
    ),
)

#: table name → workflow (the models' ``__workflow__`` points here too)
BY_TABLE = {"journal_entry": JOURNAL, "invoice": INVOICE, "contract": CONTRACT,
            "sales_contract": SALES_CONTRACT, "service_request": SERVICE_REQUEST,
            "complaint": COMPLAINT, "receipt": RECEIPT, "charge": ADJUSTMENT}
