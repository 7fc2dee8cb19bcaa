"""财务管理: what an approved fee payment does to the client, and 欠费客户 with its
催费 notices. (审核, 解锁 and the lock of approved entries are the journal's
workflow: ``app.domain.workflows.JOURNAL``, applied by ``app.services.transitions``.)

The fee rule (what approval does to ``Client.next_fee_date``):

- an entry moves its client's next fee date only when it is APPROVED (a pending
  entry moves nothing), and only if it is a fee payment: an income entry with a
  client and a next payment date, or, without one, a period end — then the date is
  the day after the period end (:func:`app.domain.billing.next_fee_date_after_payment`);
- the date only moves forward: a payment approved after a later one (out of order)
  leaves the later date (:func:`app.domain.billing.next_fee_date_to_store`);
- only billed clients (收费状态 = 正常收费) have a next fee date; 免费 / 停止计费
  clients keep their state and no date;
- unlocking does not move the date back (the approval's audit row holds the old
  value); a corrected entry moves it again when it is approved again (forward only:
  a date set too far ahead is corrected on the client form).

All set-based statements here write their own audit rows (the session listener
only sees ORM changes).
"""
from __future__ import annotations

import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from .. import audit
from ..data.sql import value_by_id
from ..domain import billing
from ..domain.choices import BILLING_CYCLE, STATUS_ACTIVE, N_
from ..extensions import db
from ..models import Client, DictItem, JournalEntry
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








# ---- 审核's effect ------------------------------------------------------------------
def apply_fee_payments(conn, entries) -> int:
    """Move the clients' next fee dates for approved fee payments (forward only,
    billed clients only), audited; the effect of the journal's 审核, set-based: one
    read of the clients, one compare-and-set UPDATE, one INSERT of audit rows. The
    entries of one client count in id order, as if approved one after the other
    (each moving the date only forward of the one before). :return: the entries
    that moved their client's date."""
    payments: dict = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.client_id is None:
            continue
        paid_until = billing.next_fee_date_after_payment(
            entry.direction, entry.next_payment_date, entry.period_end)
        if paid_until is not None:
            payments.setdefault(entry.client_id, []).append((entry.id, paid_until))
    if not payments:
        return 0
    table = Client.__table__
    current = {row.id: row for row in conn.execute(
        select(table.c.id, table.c.next_fee_date, table.c.billing_state)
        .where(table.c.id.in_(list(payments))))}
    final, audits = {}, {}
    for client_id, paid in payments.items():
        row = current.get(client_id)
        if row is None or row.billing_state != "billed":
            continue
        date = row.next_fee_date
        for entry_id, paid_until in paid:
            new = billing.next_fee_date_to_store(date, paid_until)
            if new is None:
                continue
            audits.setdefault(client_id, []).append((client_id, {
                "next_fee_date": [audit.plain(date), new.isoformat()],
                "journal_entry": entry_id}))
            date = new
        if date != row.next_fee_date:
            final[client_id] = date
    if not final:
        return 0
    # compare-and-set on the dates read: a concurrent change is not overwritten blindly
    undated = [cid for cid in final if current[cid].next_fee_date is None]
    dated = {cid: current[cid].next_fee_date for cid in final if cid not in undated}
    seen = []
    if undated:
        seen.append(table.c.id.in_(undated) & table.c.next_fee_date.is_(None))
    if dated:
        seen.append(table.c.id.in_(list(dated)) & (
            table.c.next_fee_date == value_by_id(table.c.id, dated)))
    moved = set(conn.execute(
        update(table).where(or_(*seen))
        .values(next_fee_date=value_by_id(table.c.id, final))
        .returning(table.c.id)).scalars())
    rows = [row for cid in sorted(moved) for row in audits[cid]]
    audit.record_many(conn, "update", Client.__tablename__, rows)
    for cid in moved:
        client = db.session.identity_map.get(db.session.identity_key(Client, cid))
        if client is not None:
            db.session.expire(client)
    return len(rows)


# ---- the add form: a client's earlier payments ---------------------------------------
def earlier_payments(client_id: int, limit: int = EARLIER_PAYMENTS_LIMIT) -> list[dict]:
    """The client's latest income entries (newest first), as plain values for JSON."""
    category = aliased(DictItem)
    method = aliased(DictItem)
    rows = db.session.execute(
        select(JournalEntry, category.name, method.name)
        .outerjoin(category, category.id == JournalEntry.category_id)
        .outerjoin(method, method.id == JournalEntry.method_id)
        .where(JournalEntry.client_id == client_id, JournalEntry.direction == "income")
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
        .limit(limit)).all()
    return [{
        "id": e.id, "date": audit.plain(e.entry_date), "amount": f"{e.amount:.2f}",
        "category": cat or "", "method": meth or "",
        "period_start": audit.plain(e.period_start), "period_end": audit.plain(e.period_end),
        "next_payment_date": audit.plain(e.next_payment_date), "status": e.status,
        "note": e.note or "",
    } for e, cat, meth in rows]


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
