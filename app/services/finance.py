"""财务管理: the journal add form's helper (a client's earlier payments), 欠费客户
and its 催费 notices. (审核, 解锁 and the lock of approved entries are the journal's
workflow: ``app.domain.workflows.JOURNAL``, applied by ``app.services.transitions``.)

The journal's 审核 moves nothing on the client: a client's fee money is a 收款
receipt (``app.services.receipt_journal`` posts its journal entry), and his
下次收费日期 is derived from the ledger only (``app.services.ledger``: the oldest
open periodic charge, else the first fee date not charged yet).

All set-based statements here write their own audit rows (the session listener
only sees ORM changes).
"""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import audit
from ..domain import billing
from ..domain.choices import BILLING_CYCLE, STATUS_ACTIVE, N_
from ..extensions import db
from ..models import Client, DictItem
from . import settings

#: Setting key: 欠费客户 lists clients due within this many days (default below)
ARREARS_DAYS = "arrears_days"
DEFAULT_ARREARS_DAYS = 15
MAX_ARREARS_DAYS = 366
#: Setting key: the 催费 notice, with the placeholders of ``DUNNING_PLACEHOLDERS``
DUNNING_TEMPLATE = "dunning_template"
#: how many earlier payments the journal's add form shows
EARLIER_PAYMENTS_LIMIT = 20

# The notice shipped by default. A msgid, so an English screen shows it in English;
# the placeholders stay Chinese in every language (they are the template's syntax).
DEFAULT_DUNNING_TEMPLATE = N_(
    "Dear {公司名称},\n\n"
    "Our records show that the bookkeeping service fee ({收费周期}) of your company, "
    "due on {到期日期}, has not been received yet. The amount due is {欠费金额} yuan.\n\n"
    "Please arrange the payment at your earliest convenience so that your bookkeeping "
    "and tax filings continue without interruption. If you have already paid, please "
    "ignore this notice.\n\n"
    "Thank you for your trust and support.\n\n"
    "{公司}"
)
#: placeholder → what it is replaced with (for the settings page)
DUNNING_PLACEHOLDERS = {
    "{公司名称}": N_("The client's company name"),
    "{欠费金额}": N_("The amount due (periods owed × service fee; one cycle when only due soon)"),
    "{欠费期数}": N_("The number of billing cycles owed"),
    "{欠费明细}": N_("The open charges past due, one per line (date, period, amount)"),
    "{到期日期}": N_("The client's next fee date"),
    "{收费周期}": N_("The billing cycle"),
    "{公司}": N_("Your firm's name (Administration › Company settings)"),
}


# ---- the add form: a client's earlier payments ---------------------------------------
def earlier_payments(client_id: int, limit: int = EARLIER_PAYMENTS_LIMIT) -> list[dict]:
    """The client's latest 收款 receipts (newest first, pending ones too), as plain
    values for JSON: his payments are receipts, never typed on the journal."""
    from ..models import Receipt

    method = aliased(DictItem)
    rows = db.session.execute(
        select(Receipt, method.name)
        .outerjoin(method, method.id == Receipt.method_id)
        .where(Receipt.client_id == client_id)
        .order_by(Receipt.received_on.desc(), Receipt.id.desc())
        .limit(limit)).all()
    return [{
        "id": r.id, "date": audit.plain(r.received_on), "amount": f"{r.amount:.2f}",
        "category": "", "method": meth or "", "number": r.number or "",
        "period_start": "", "period_end": "", "next_payment_date": "",
        "status": r.status, "note": r.note or "",
    } for r, meth in rows]


# ---- 欠费客户 ----------------------------------------------------------------------
def arrears_days(override=None) -> int:
    """The look-ahead of 欠费客户: ``override`` (``?days=``) when it is a whole number
    from 0 to 366, else the Setting ``arrears_days``, else 15."""
    for value in (override, settings.get(ARREARS_DAYS, "")):
        try:
            days = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if 0 <= days <= MAX_ARREARS_DAYS:
            return days
    return DEFAULT_ARREARS_DAYS


def arrears_condition(today: datetime.date, days: int):
    """SQL condition on ``Client``: billed, 代理记账, next fee date passed or within
    ``days`` days of ``today``."""
    return ((Client.billing_state == "billed") & (Client.status == STATUS_ACTIVE)
            & Client.next_fee_date.isnot(None)
            & (Client.next_fee_date <= today + datetime.timedelta(days=days)))


def overdue_total(today: datetime.date, condition=None):
    """The service fees of the clients already overdue (the arrears list's own rule,
    narrowed to due before today), through ``condition`` (the caller's scope)."""
    from sqlalchemy import func

    from ..data.sql import sum_cents

    query = select(func.coalesce(sum_cents(Client.service_fee), 0)).where(
        arrears_condition(today, -1))
    if condition is not None:
        query = query.where(condition)
    return billing.cents_to_decimal(db.session.execute(query).scalar())


def dunning_template() -> str:
    """The 催费 notice template: the Setting, or the shipped default in the user's
    language."""
    from flask_babel import gettext

    text = settings.get(DUNNING_TEMPLATE, "")
    return text if text.strip() else gettext(DEFAULT_DUNNING_TEMPLATE)


def save_finance_settings(template: str, days: int) -> None:
    settings.put(DUNNING_TEMPLATE, template)
    settings.put(ARREARS_DAYS, str(days))
    db.session.commit()


#: computed arrears column → the client fields it reveals (hidden with them)
ARREARS_SOURCES = {
    "amount_owed": {"service_fee", "next_fee_date", "billing_cycle"},
    "periods_owed": {"next_fee_date", "billing_cycle"},
    "oldest_due": {"next_fee_date"},
}
#: placeholder → the client fields it reveals (left empty when one is hidden)
PLACEHOLDER_SOURCES = {
    "{欠费金额}": {"service_fee", "next_fee_date", "billing_cycle"},
    "{欠费明细}": {"service_fee", "next_fee_date", "billing_cycle"},
    "{欠费期数}": {"next_fee_date", "billing_cycle"},
    "{到期日期}": {"next_fee_date"},
    "{收费周期}": {"billing_cycle"},
}


def dunning_values(client: Client, today: datetime.date, firm_name: str,
                   hidden=frozenset()) -> dict:
    """Placeholder → text for one client's notice (labels in the user's language);
    a placeholder that would reveal a field hidden from the user (``hidden``) is
    left empty."""
    from flask_babel import gettext

    from .ledger import arrears_figures, open_charges

    due = client.next_fee_date
    owed = arrears_figures([client.id], today).get(client.id)
    if owed:  # the ledger: his open charges past due, itemised
        periods, amount, oldest = owed
        due = oldest
        items = "\n".join(f"{c.due_date.isoformat()}  {c.description or c.period or ''}  "
                          f"{c.amount - c.paid - c.written_off:,.2f}"
                          for c in open_charges(client.id, today))
    else:  # only due soon: one cycle falls due
        periods = 0
        amount = billing.amount_due(due, today, client.billing_cycle, client.service_fee)
        items = ""
    values = {
        "{欠费明细}": items,
        "{公司名称}": client.name,
        "{欠费金额}": f"{amount:,.2f}",
        "{欠费期数}": str(periods),
        "{到期日期}": gettext("%(year)d-%(month)02d-%(day)02d", year=due.year,
                              month=due.month, day=due.day) if due else "",
        "{收费周期}": gettext(BILLING_CYCLE.get(client.billing_cycle, client.billing_cycle)),
        "{公司}": firm_name,
    }
    for placeholder, sources in PLACEHOLDER_SOURCES.items():
        if hidden & sources:
            values[placeholder] = ""
    return values


def render_dunning(template: str, values: dict) -> str:
    """Fill the placeholders by plain replacement (not ``str.format``: a brace typed
    in the template is text, and nothing in it is evaluated)."""
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def dunning_notices(clients, today: datetime.date,
                    hidden=frozenset()) -> list[tuple[Client, str]]:
    """(client, notice text) for each given (already scoped) client, audited as one
    ``dun`` event listing the clients. ``hidden``: client fields hidden from the user."""
    firm = settings.company().get("company_name", "")
    template = dunning_template()
    notices = [(c, render_dunning(template, dunning_values(c, today, firm, hidden)))
               for c in sorted(clients, key=lambda c: (c.next_fee_date or today, c.id))]
    audit.record(db.session.connection(), "dun", Client.__tablename__,
                 changes={"clients": [c.id for c, _ in notices]})
    db.session.commit()
    return notices
