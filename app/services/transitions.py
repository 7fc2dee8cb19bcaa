"""One service applies any workflow transition (``app.domain.workflows``) to rows
the caller loaded through the scope; the screens' actions, the REST API's
``POST /<id>/<name>``, the lock checks of edit and delete and the home page's
"waiting for me" cards all use it.

A step, for each row: the version the user saw must be the row's version (a stale
page, a double click or a second user finds it changed and is counted, never
applied again); the row must be in a starting state; the author may not fire a
step marked ``not_by_author`` unless the firm allows self-approval; then one
compare-and-set ``UPDATE … WHERE id = :id AND status IN (:sources) AND version =
:seen`` moves it (status, version + 1, stamps, typed values), its audit row is
written, and its effect runs (``EFFECTS``). One commit for all rows. A step with no
typed values and no per-row effect (审核 of journal entries and invoices, 解锁)
moves all its rows in one such statement, its audit rows in one INSERT, its effect
set-based (``Effect.after_all``): a handful of statements for 500 rows.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..data import integrity
from ..data.sql import value_by_id
from ..domain import validation, workflows
from ..domain.choices import N_
from ..domain.workflow import Transition, Workflow
from ..extensions import db
from . import settings

#: Setting key: "1" lets the author of a document approve it (one-person firms)
ALLOW_SELF_APPROVAL = "allow_self_approval"
#: a reason is text of at most this many characters (or its column's length)
REASON_MAX = 255

REASON_RULE = validation.Text(max_length=REASON_MAX, required=True)


class LockedError(ValueError):
    """The document is in a locked state: no edit, no delete (``status`` says which);
    ``reason``: a msgid saying more (a journal entry that belongs to a receipt)."""

    def __init__(self, workflow: Workflow, status, reason: str | None = None):
        super().__init__(status)
        self.workflow, self.status, self.reason = workflow, status, reason


@dataclass
class Result:
    """What a step did: ``changed`` rows, ``skipped`` rows not in a starting state or
    changed since the user saw them (someone else was first), ``refused`` rows the
    user may not move (his own, without self-approval), ``held`` rows another
    document owns (a receipt's journal entry: see ``HELD``); ``notes`` counts what
    the step's effect did (``receipt_matched``: receipts numbered and matched)."""

    changed: int = 0
    skipped: int = 0
    refused: int = 0
    held: int = 0
    notes: dict = field(default_factory=dict)

    def note(self, key: str, n: int = 1) -> None:
        self.notes[key] = self.notes.get(key, 0) + n


def workflow_of(model) -> Workflow | None:
    """The declared lifecycle of a model (None: it has no states)."""
    return workflows.BY_TABLE.get(getattr(model, "__tablename__", ""))


def self_approval_allowed() -> bool:
    """Whether the firm lets the author of a document approve it (Setting
    ``allow_self_approval`` = "1")."""
    return settings.get(ALLOW_SELF_APPROVAL, "0").strip() == "1"


def version_of(item) -> str:
    """The version a page shows of a row and sends back with a step on it."""
    wf = workflow_of(type(item))
    return str(getattr(item, wf.version_column) or 0)


def parse_version(text) -> int | None:
    try:
        number = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2 ** 31 else None




def check_inputs(model, step: Transition, values: dict | None, reason) -> tuple[dict, str | None]:
    """The typed values and reason of a step, cleaned by the columns' field rules.

    :raises validation.FieldErrors: a value is missing or refused (beside its field).
    """
    values = values or {}
    rules = integrity.rules_of(model)
    cleaned, errors = {}, validation.FieldErrors({})
    for column in step.inputs:
        rule = rules[column]
        try:
            value = rule.clean(values.get(column))
            if value is None:
                raise validation.FieldError("required")
            cleaned[column] = value
        except validation.FieldError as exc:
            errors.merge(validation.FieldErrors.one(column, exc.reason, **exc.params))
    text = None
    if step.needs_reason:
        try:
            text = REASON_RULE.clean(reason)
        except validation.FieldError as exc:
            errors.merge(validation.FieldErrors.one("reason", exc.reason, **exc.params))
    if errors.errors:
        raise errors
    return cleaned, text


def fire(model, items, name: str, by, now: datetime.datetime, seen: dict,
         values: dict | None = None, reason: str | None = None) -> Result:
    """Apply transition ``name`` to ``items`` (rows of ``model`` already loaded
    through the user's scope), as ``by`` at ``now``.

    :param seen: row id → the version the user saw (``version_of``); a row without
        one, or whose version has moved on, is skipped.
    :param values: the step's typed values (``Transition.inputs``).
    :param reason: the step's reason (``Transition.needs_reason``).
    :raises validation.FieldErrors: typed values or reason refused, or a value taken
        by another row (a unique invoice number); nothing is changed.
    """
    wf = workflow_of(model)
    step = wf.transition(name)
    cleaned, reason = check_inputs(model, step, values, reason)
    unique = {c for c in integrity.table_of(model).unique if isinstance(c, str)}
    for column, value in cleaned.items():
        # a typed value the table keeps unique (an invoice number), not an assignee
        if column in unique and integrity.taken(model, column, value, None):
            raise _taken(model, column)
    stamp = now.replace(tzinfo=None, microsecond=0)
    allow_self = self_approval_allowed()
    effect = EFFECTS.get((model.__tablename__, name))
    table = model.__table__
    status_col = table.c[wf.status_column]
    version_col = table.c[wf.version_column]
    conn = db.session.connection()
    result = Result()
    items = _not_held(conn, model, items, result)
    if not step.inputs and (effect is None or (effect.before is None and effect.after is None)):
        moved = _fire_set_based(wf, step, table, items, by, stamp, seen, allow_self, reason,
                                result)
        return _finish(conn, effect, name, items, moved, by, stamp, result)
    moved_items = []
    for item in sorted(items, key=lambda row: row.id):
        version = seen.get(item.id)
        current = getattr(item, wf.version_column)
        status = getattr(item, wf.status_column)
        if version is None or version != current:
            result.skipped += 1
            continue
        why = wf.refusal(step, status, getattr(item, wf.author_column), by.id, allow_self)
        if why == "state":
            result.skipped += 1
            continue
        if why == "own":
            result.refused += 1
            continue
        new = {wf.status_column: step.target, wf.version_column: current + 1,
               **wf.stamps(step, by.id, stamp), **cleaned}
        if step.reason_column:
            new[step.reason_column] = reason
        if effect is not None and effect.before is not None:
            new.update(effect.before(item))
        old = {key: getattr(item, key) for key in new}
        savepoint = db.session.begin_nested()
        try:
            moved = conn.execute(update(table).where(
                table.c.id == item.id, status_col.in_(step.sources),
                version_col == current).values(**new)).rowcount
        except IntegrityError:
            # another user took the value between the check and the UPDATE
            savepoint.rollback()
            db.session.rollback()
            raise _taken(model, next(iter(cleaned), wf.status_column)) from None
        if moved != 1:  # changed by someone else since it was read
            savepoint.rollback()
            result.skipped += 1
            continue
        changes = {key: [audit.plain(old[key]), audit.plain(value)] for key, value in new.items()
                   if old[key] != value and key != wf.version_column}
        if reason and not step.reason_column:
            changes["reason"] = reason
        audit.record(conn, step.audit_action, table.name, item.id, changes=changes)
        if effect is not None and effect.after is not None:
            effect.after(conn, item, by, stamp, result)
        savepoint.commit()
        result.changed += 1
        moved_items.append(item)
    return _finish(conn, effect, name, items, moved_items, by, stamp, result)


def _not_held(conn, model, items, result: Result) -> list:
    """``items`` without the rows another document owns (counted as ``held``)."""
    held_of = HELD.get(model.__tablename__)
    if held_of is None:
        return list(items)
    held = held_of(conn, [item.id for item in items])
    result.held += sum(1 for item in items if item.id in held)
    return [item for item in items if item.id not in held]


def _finish(conn, effect, name, items, moved, by, stamp, result: Result) -> Result:
    """The end of a step, row by row or set-based: the effect on all the rows moved,
    one commit, then what others are told; the caller's objects show the new state."""
    if effect is not None and effect.after_all is not None and moved:
        effect.after_all(conn, moved, by, stamp, result)
    moved_ids = [item.id for item in moved]
    db.session.commit()
    if effect is not None and effect.committed is not None:
        for moved_id in moved_ids:  # after the commit: what others are told
            effect.committed(moved_id, name)
    for item in items:
        if item in db.session:
            db.session.expire(item)
    return result


def _fire_set_based(wf, step, table, items, by, stamp, seen, allow_self, reason,
                    result: Result) -> list:
    """The rows of :func:`fire` moved in one compare-and-set statement (a step with no
    typed values and no per-row effect: 审核 of 500 journal entries was 500 UPDATEs
    and 500 audit INSERTs, each in its savepoint): ``UPDATE … SET status, version =
    version + 1, stamps WHERE id IN (…) AND status IN (:sources) AND version = CASE
    id WHEN … THEN :seen … END RETURNING id``, then one INSERT of their audit rows.
    Counts as the row-by-row path: a version the user did not see or a state the
    step does not start from is skipped, the author's own document refused, a row
    someone else moved in between skipped. :return: the items moved."""
    status_col = table.c[wf.status_column]
    version_col = table.c[wf.version_column]
    candidates = []
    for item in sorted(items, key=lambda row: row.id):
        version = seen.get(item.id)
        current = getattr(item, wf.version_column)
        if version is None or version != current:
            result.skipped += 1
            continue
        why = wf.refusal(step, getattr(item, wf.status_column),
                         getattr(item, wf.author_column), by.id, allow_self)
        if why == "state":
            result.skipped += 1
        elif why == "own":
            result.refused += 1
        else:
            candidates.append(item)
    if not candidates:
        return []
    new = {wf.status_column: step.target, **wf.stamps(step, by.id, stamp)}
    if step.reason_column:
        new[step.reason_column] = reason
    conn = db.session.connection()
    moved_ids = set(conn.execute(
        update(table).where(
            table.c.id.in_([item.id for item in candidates]),
            status_col.in_(step.sources),
            version_col == value_by_id(table.c.id, {item.id: getattr(item, wf.version_column)
                                                    for item in candidates}))
        .values({**new, wf.version_column: version_col + 1})
        .returning(table.c.id)).scalars())
    moved = [item for item in candidates if item.id in moved_ids]
    result.skipped += len(candidates) - len(moved)
    result.changed += len(moved)
    rows = []
    for item in moved:
        changes = {key: [audit.plain(getattr(item, key)), audit.plain(value)]
                   for key, value in new.items() if getattr(item, key) != value}
        if reason and not step.reason_column:
            changes["reason"] = reason
        rows.append((item.id, changes))
    audit.record_many(conn, step.audit_action, table.name, rows)
    return moved


def _taken(model, column: str) -> validation.FieldErrors:
    return validation.FieldErrors(integrity.table_of(model).reworded(
        {column: [("unique", {})]}))


# ---- locked documents --------------------------------------------------------------
def prepare_new(item, by) -> None:
    """A new document starts in its workflow's first state, authored by ``by``, at
    version 1, with no stamps (whatever a form or the API sent)."""
    wf = workflow_of(type(item))
    if wf is None:
        return
    setattr(item, wf.status_column, wf.initial)
    setattr(item, wf.version_column, 1)
    if by is not None and getattr(by, "id", None) is not None:
        setattr(item, wf.author_column, by.id)
    for step in wf.transitions:
        for column in step.stamp:
            setattr(item, column, None)
        for column in step.inputs:
            setattr(item, column, None)
        if step.reason_column:
            setattr(item, step.reason_column, None)


def ensure_editable(item) -> None:
    """Refuse to edit or delete a document in a locked state; otherwise hold its row
    until the caller's transaction ends, so a step cannot land between this check and
    the save (a no-op ``UPDATE … WHERE status NOT IN (locked)``: it reads the state
    in the database and takes the row lock; SQLite holds its write lock).

    :raises LockedError: (the caller rolls back)
    """
    wf = workflow_of(type(item))
    if wf is None or not wf.locked_in or item.id is None:
        return
    table = type(item).__table__
    status_col = table.c[wf.status_column]
    held_of = HELD.get(table.name)
    if held_of is not None and held_of(db.session.connection(), [item.id]):
        raise LockedError(wf, getattr(item, wf.status_column), reason=OUTCOME["held_one"])
    held = db.session.connection().execute(
        update(table).where(table.c.id == item.id, status_col.not_in(wf.locked_in))
        .values({wf.status_column: status_col})).rowcount
    if held != 1:
        status = db.session.connection().execute(
            select(status_col).where(table.c.id == item.id)).scalar()
        raise LockedError(wf, status)


def is_locked(item) -> bool:
    """Whether the document, as loaded, is in a locked state."""
    wf = workflow_of(type(item))
    return wf is not None and wf.is_locked(getattr(item, wf.status_column))


# ---- waiting for me ------------------------------------------------------------------
@dataclass
class Inbox:
    """A "waiting for me" card: rows of ``workflow`` in ``step``'s starting states
    that the user may move on."""

    workflow: Workflow
    step: Transition
    count: int


def inbox(user, may, scope_condition) -> list[Inbox]:
    """The steps marked ``inbox`` that ``user`` may fire (``may(permission, view)``),
    each with the number of rows waiting — through the user's scope
    (``scope_condition(model)``) and without his own documents unless self-approval
    is allowed."""
    from sqlalchemy import func

    from ..models import (Charge, Complaint, Contract, Invoice, JournalEntry, Receipt,
                          SalesContract, ServiceRequest)

    models = {"journal_entry": JournalEntry, "invoice": Invoice, "contract": Contract,
              "sales_contract": SalesContract, "service_request": ServiceRequest,
              "complaint": Complaint, "receipt": Receipt, "charge": Charge}
    allow_self = self_approval_allowed()
    cards = []
    for table, wf in workflows.BY_TABLE.items():
        model = models[table]
        for step in wf.transitions:
            if not step.inbox or not may(step.permission, wf.permission_view):
                continue
            where = [getattr(model, wf.status_column).in_(step.sources)]
            if step.not_by_author and not allow_self:
                where.append(getattr(model, wf.author_column).is_distinct_from(user.id))
            cond = scope_condition(model)
            if cond is not None:
                where.append(cond)
            count = db.session.execute(select(func.count()).select_from(model)
                                       .where(*where)).scalar()
            cards.append(Inbox(wf, step, count))
    return cards


# ---- what a step does beyond its state -------------------------------------------------
@dataclass(frozen=True)
class Effect:
    """``before(item) -> dict``: more values for the step's UPDATE; ``after(conn,
    item, by, now, result)``: more changes once the row moved (same transaction);
    ``after_all(conn, items, by, now, result)``: the same for all the rows moved at
    once, set-based (a step whose effect is only this one moves its rows in one
    statement: ``_fire_set_based``); ``committed(row_id, step)``: once the step is
    committed (notices, e-mail)."""

    before: object = None
    after: object = None
    after_all: object = None
    committed: object = None


def _renewed_term(item) -> dict:
    from ..domain import terms

    start, end = terms.next_term(item.start_date, item.end_date)
    return {"start_date": start, "end_date": end}


def _keep_term(conn, contract, by, now, result) -> None:
    from .work import keep_previous_term

    keep_previous_term(conn, contract, by, now)


def _contract_terms_to_client(conn, contract, by, now, result) -> None:
    """The approved contract is what defines the client's term, fee and billing cycle:
    the client row carries them (lists, arrears, reminders read them there)."""
    from .work import contract_defines_client

    if contract_defines_client(conn, contract):
        result.note("client_terms")


def _won_client(conn, contract, by, now, result) -> None:
    from .sales import convert_to_client

    if convert_to_client(contract, by, now):
        result.note("client_created")


def _sales_total(item) -> dict:
    from .sales import computed_total

    return {"total": computed_total(item.id)}


def _service_notice(request_id, step) -> None:
    from .notices import after_step

    after_step(request_id, step)


def _complaint_closed(complaint_id, step) -> None:
    from .notices import complaint_closed

    complaint_closed(complaint_id)


def _receipt_approved(conn, receipt, by, now, result) -> None:
    """Numbered and matched (``services.ledger``), then its one journal entry posted
    (``services.receipt_journal``): the fee income the 日记账 and 统计 count."""
    from .ledger import receipt_approved
    from .receipt_journal import post_entry

    if receipt_approved(conn, receipt, now):
        result.note("receipt_matched")
    post_entry(conn, receipt.id, getattr(by, "id", None), now)


def _receipt_unlocked(conn, receipt, by, now, result) -> None:
    from .ledger import receipt_unlocked
    from .receipt_journal import withdraw_entry

    withdraw_entry(conn, receipt.id)
    receipt_unlocked(conn, receipt)


def _held_by_receipts(conn, entry_ids) -> set:
    from .receipt_journal import held_entries

    return held_entries(conn, entry_ids)


def _adjustment_approved(conn, charge, by, now, result) -> None:
    from .ledger import charge_approved

    charge_approved(conn, charge)


EFFECTS = {
    **{("service_request", step): Effect(committed=_service_notice)
       for step in ("dispatch", "claim", "finish", "confirm", "reopen", "cancel")},
    ("complaint", "close"): Effect(committed=_complaint_closed),
    ("receipt", "approve"): Effect(after=_receipt_approved),
    ("receipt", "unlock"): Effect(after=_receipt_unlocked),
    ("charge", "approve"): Effect(after=_adjustment_approved),
    ("contract", "approve"): Effect(after=_contract_terms_to_client),
    ("sales_contract", "submit"): Effect(before=_sales_total),
    ("sales_contract", "approve"): Effect(before=_sales_total, after=_won_client),
    ("contract", "renew"): Effect(before=_renewed_term, after=_keep_term),
}

#: table → ``(conn, ids) -> ids`` of its rows another document owns: no step, edit or
#: delete on them from their own screens or API (a receipt's journal entry changes
#: with the receipt)
HELD = {"journal_entry": _held_by_receipts}

#: messages of a step's outcome, for the screens and the API
OUTCOME = {
    "changed": N_("%(step)s: %(n)d done."),
    "skipped": N_("%(step)s: %(n)d skipped (already done, not in a state this step starts "
                  "from, or changed since the page was loaded)."),
    "refused": N_("%(step)s: %(n)d refused: you created them yourself, and the author of "
                  "a document cannot approve it."),
    "held_one": N_("This journal entry belongs to a receipt: a client's payment is "
                   "approved, unlocked or changed under Receipts."),
    "held": N_("%(n)d journal entry(ies) belong to a receipt: a client's payment is "
               "approved, unlocked or changed under Receipts."),
    "client_terms": N_("%(n)d client(s) now have the term, fee and billing cycle of their "
                       "approved contract."),
    "client_created": N_("%(n)d lead(s) became clients (see the client list and "
                         "Contracts)."),
    "receipt_matched": N_("%(n)d receipt(s) numbered and matched to open charges."),
    "locked": N_("This %(document)s is %(status)s and locked: it cannot be changed or "
                 "deleted."),
}
