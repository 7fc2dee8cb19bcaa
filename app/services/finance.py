"""财务管理: 日记账 审核 / 解锁, what an approved fee payment does to the client, and
欠费客户 with its 催费 notices.

Approval and locking (seed 004: 财务的审核是对单据的锁定和解锁):

- a new entry is 待审核 (pending); Finance or a Manager approves it (审核). The
  creator of an entry cannot approve it unless the Setting ``allow_self_approval``
  is "1" (one-person firms);
- approval is a compare-and-set (``UPDATE … WHERE id = :id AND status = 'pending'``):
  a double click, or two approvers at once, approve once; the other is counted as
  skipped;
- an approved entry is locked: editing and deleting it are refused
  (:func:`lock_for_change`, which holds the row for the rest of the transaction so an
  approval cannot slip in between the check and the write);
- 解锁 (its own permission) puts an approved entry back to pending, with a reason,
  and writes an explicit ``unlock`` audit row.

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
only sees ORM changes) and each public function commits once.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from .. import audit
from ..domain import billing
from ..domain.choices import BILLING_CYCLE, STATUS_ACTIVE, N_
from ..extensions import db
from ..models import Client, DictItem, JournalEntry
from . import settings

PENDING = "pending"
APPROVED = "approved"
#: Setting key: "1" lets the creator of an entry approve it (one-person firms)
ALLOW_SELF_APPROVAL = "allow_self_approval"
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
    "{到期日期}": N_("The client's next fee date"),
    "{收费周期}": N_("The billing cycle"),
    "{公司}": N_("Your firm's name (Administration › Company settings)"),
}


class JournalError(ValueError):
    """A change to a journal entry that cannot be made; ``reason`` says why:
    ``locked`` (approved: no edit, no delete) or ``not_approved`` (nothing to unlock)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Result:
    """What an approval did: ``changed`` entries approved, ``skipped`` already
    approved (or approved by someone else first), ``refused`` the approver's own,
    ``moved`` clients whose next fee date moved."""

    changed: int = 0
    skipped: int = 0
    refused: int = 0
    moved: int = 0
    clients: list = field(default_factory=list)


def _stamp(now: datetime.datetime) -> datetime.datetime:
    """Timestamps are stored naive, in the firm's local time, to the second."""
    return now.replace(tzinfo=None, microsecond=0)


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


# ---- 审核 ---------------------------------------------------------------------------
def self_approval_allowed() -> bool:
    """Whether the creator of an entry may approve it (Setting ``allow_self_approval``)."""
    return settings.get(ALLOW_SELF_APPROVAL, "0").strip() == "1"


def is_locked(entry: JournalEntry) -> bool:
    """An approved entry is locked: neither edited nor deleted."""
    return entry.status == APPROVED


def approve_entries(entries, by, now: datetime.datetime) -> Result:
    """审核 the given (already scoped) entries: pending → approved, stamped with the
    approver and the time; then each approved fee payment moves its client's next fee
    date (the rule in this module's docstring). Entries are taken in date order, so
    several payments of one client approved together end on the latest date.

    Already approved entries are skipped; the approver's own are refused unless
    self-approval is allowed. One transaction.
    """
    result = Result()
    allow_self = self_approval_allowed()
    conn = db.session.connection()
    stamp = _stamp(now)
    for entry in sorted(entries, key=lambda e: (e.entry_date, e.id)):
        if entry.status != PENDING:
            result.skipped += 1
            continue
        if entry.created_by_id == by.id and not allow_self:
            result.refused += 1
            continue
        done = conn.execute(
            update(JournalEntry.__table__)
            .where(JournalEntry.__table__.c.id == entry.id,
                   JournalEntry.__table__.c.status == PENDING)
            .values(status=APPROVED, approved_by_id=by.id, approved_at=stamp)).rowcount
        if done != 1:  # approved by someone else since the page was loaded
            result.skipped += 1
            continue
        audit.record(conn, "update", JournalEntry.__tablename__, entry.id, changes={
            "status": [PENDING, APPROVED], "approved_by_id": [None, by.id],
            "approved_at": [None, stamp.isoformat()]})
        result.changed += 1
        if _apply_fee_payment(conn, entry):
            result.moved += 1
            result.clients.append(entry.client_id)
    db.session.commit()  # expires what the session holds, the callers' entries included
    return result


def _apply_fee_payment(conn, entry: JournalEntry) -> bool:
    """Move the client's next fee date for an approved fee payment (forward only,
    billed clients only), audited. True when the date moved."""
    if entry.client_id is None:
        return False
    paid_until = billing.next_fee_date_after_payment(entry.direction, entry.next_payment_date,
                                                     entry.period_end)
    if paid_until is None:
        return False
    table = Client.__table__
    current = conn.execute(select(table.c.next_fee_date, table.c.billing_state)
                           .where(table.c.id == entry.client_id)).first()
    if current is None or current.billing_state != "billed":
        return False
    new = billing.next_fee_date_to_store(current.next_fee_date, paid_until)
    if new is None:
        return False
    # compare-and-set on the date read: a concurrent change is not overwritten blindly
    seen = (table.c.next_fee_date.is_(None) if current.next_fee_date is None
            else table.c.next_fee_date == current.next_fee_date)
    moved = conn.execute(update(table).where(table.c.id == entry.client_id, seen)
                         .values(next_fee_date=new)).rowcount
    if moved != 1:
        return False
    audit.record(conn, "update", Client.__tablename__, entry.client_id, changes={
        "next_fee_date": [_plain(current.next_fee_date), new.isoformat()],
        "journal_entry": entry.id})
    client = db.session.identity_map.get(db.session.identity_key(Client, entry.client_id))
    if client is not None:
        db.session.expire(client)
    return True


# ---- 锁定 / 解锁 ---------------------------------------------------------------------
def lock_for_change(entry: JournalEntry) -> None:
    """Refuse to edit or delete an approved entry; otherwise hold the row (it stays
    pending) until the caller's transaction ends.

    The check runs in the database, after the caller's changes are flushed: a no-op
    ``UPDATE … SET status = status WHERE id = :id AND status = 'pending'`` both reads
    the current status and takes the row lock (PostgreSQL; SQLite holds its write lock),
    so an approval cannot land between this check and the commit.

    :raises JournalError: ``locked`` — the caller rolls back.
    """
    db.session.flush()
    table = JournalEntry.__table__
    held = db.session.connection().execute(
        update(table).where(table.c.id == entry.id, table.c.status == PENDING)
        .values(status=table.c.status)).rowcount
    if held != 1:
        raise JournalError("locked")


def unlock_entry(entry: JournalEntry, by, reason: str) -> None:
    """解锁: an approved entry goes back to 待审核 (approver and time cleared) and can
    be edited again; an explicit ``unlock`` audit row keeps who, why, and who had
    approved it. Compare-and-set: unlocking twice unlocks once.

    :raises JournalError: ``not_approved`` — the entry is not (or no longer) approved.
    """
    reason = (reason or "").strip()
    if not reason:
        raise JournalError("reason")
    conn = db.session.connection()
    table = JournalEntry.__table__
    before = conn.execute(select(table.c.approved_by_id, table.c.approved_at)
                          .where(table.c.id == entry.id)).first()
    done = conn.execute(update(table).where(table.c.id == entry.id, table.c.status == APPROVED)
                        .values(status=PENDING, approved_by_id=None, approved_at=None)).rowcount
    if done != 1:
        db.session.rollback()
        raise JournalError("not_approved")
    audit.record(conn, "unlock", JournalEntry.__tablename__, entry.id, changes={
        "reason": reason, "status": [APPROVED, PENDING],
        "approved_by_id": [before.approved_by_id, None],
        "approved_at": [_plain(before.approved_at), None]})
    db.session.commit()


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
        "id": e.id, "date": _plain(e.entry_date), "amount": f"{e.amount:.2f}",
        "category": cat or "", "method": meth or "",
        "period_start": _plain(e.period_start), "period_end": _plain(e.period_end),
        "next_payment_date": _plain(e.next_payment_date), "status": e.status,
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
}
#: placeholder → the client fields it reveals (left empty when one is hidden)
PLACEHOLDER_SOURCES = {
    "{欠费金额}": {"service_fee", "next_fee_date", "billing_cycle"},
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

    due = client.next_fee_date
    periods = billing.periods_owed(due, today, client.billing_cycle)
    amount = billing.amount_due(due, today, client.billing_cycle, client.service_fee)
    values = {
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
