"""客户门户 (seed 002): client users and what the portal shows them.

A client user is an ``ab_user`` holding the ClientUser role (no permission at all)
with one :class:`PortalMembership` per client he may see; the portal's pages load
his clients through the one scope (``app.security.scope``: a client user sees his
memberships' clients and the rows that belong to them) and show only what a client
may read: his filings' state, his invoices, his contract's term and fee, the name
and phone of his 记账会计 and 外勤会计. No notes, no audit, no other client.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..domain.choices import N_
from ..extensions import db
from ..models import (Client, Contract, Invoice, Obligation, ObligationRecord, ObligationType,
                      PortalAccount, PortalMembership, Staff)
from ..security import scope
from ..security.grants import CLIENT_ROLE

#: invoices and filings shown on a portal page at most (newest first)
ROWS = 24


class PortalError(ValueError):
    """A client login could not be made; ``message`` is an English msgid."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params


MESSAGES = {
    "username_taken": N_("The user name %(name)s is taken by a staff member."),
    "username": N_("A user name has 3 to 64 letters, digits, dots, dashes or underscores."),
    "no_client": N_("No such client."),
    "password": N_("The password needs at least %(n)d characters, with both letters and "
                   "digits."),
}


def _check_username(username: str) -> str:
    import re

    text = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9._@-]{3,64}", text):
        raise PortalError(MESSAGES["username"])
    return text


def _check_password(password: str) -> None:
    from ..security.passwords import MIN_LENGTH, validate_password
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    try:
        validate_password(password or "")
    except PasswordComplexityValidationError:
        raise PortalError(MESSAGES["password"], n=MIN_LENGTH) from None


def add_client_user(username: str, client_id: int, password: str, *, name: str = "",
                    phone: str = "", must_change: bool = False, by_id=None) -> Staff:
    """Give a login to a client (or one more client to an existing client user: a
    boss with several companies). Committed; audited by the flush listener.

    :raises PortalError: a staff member's user name, a bad name or password, no
        such client.
    """
    username = _check_username(username)
    if db.session.get(Client, client_id) is None:
        raise PortalError(MESSAGES["no_client"])
    sm = current_app.appbuilder.sm
    role = sm.find_role(CLIENT_ROLE)
    user = db.session.execute(select(Staff).where(Staff.username == username)).scalar()
    if user is not None and not scope.is_client_user(user):
        raise PortalError(MESSAGES["username_taken"], name=username)
    if user is None:
        _check_password(password)
        full = (name or username).strip()[:64]
        user = sm.add_user(username, full[1:] or full, full[:1] if len(full) > 1 else "",
                           f"{username}@portal.invalid", role, password=password,
                           commit=False)
        if not user:
            db.session.rollback()
            raise PortalError(MESSAGES["username_taken"], name=username)
        user.phone = (phone or "").strip()[:32] or None
        db.session.add(PortalAccount(user_id=user.id, must_change_password=must_change,
                                     created_by_id=by_id))
    exists = db.session.execute(select(PortalMembership.id).where(
        PortalMembership.user_id == user.id, PortalMembership.client_id == client_id)).first()
    if exists is None:
        db.session.add(PortalMembership(user_id=user.id, client_id=client_id))
    db.session.commit()
    return user


def logins_of(client_id: int) -> list[Staff]:
    """The client users of a client (for staff on the client page)."""
    return list(db.session.execute(
        select(Staff).join(PortalMembership, PortalMembership.user_id == Staff.id)
        .where(PortalMembership.client_id == client_id).order_by(Staff.username)).scalars())


def must_change_password(user) -> bool:
    """Whether the client user still has to replace the password staff gave him."""
    account = db.session.get(PortalAccount, user.id)
    return bool(account and account.must_change_password)


def change_password(user, old: str, new: str, confirm: str) -> None:
    """A client user replaces his password (the first time: the one staff gave him).

    :raises PortalError:
    """
    from werkzeug.security import check_password_hash

    if not check_password_hash(user.password or "", old or ""):
        raise PortalError(N_("The current password is wrong."))
    if new != confirm:
        raise PortalError(N_("The two new passwords differ."))
    if new == old:
        raise PortalError(N_("The new password must differ from the current one."))
    _check_password(new)
    account = db.session.get(PortalAccount, user.id)
    if account is not None and account.must_change_password:
        account.must_change_password = False
    db.session.commit()
    current_app.appbuilder.sm.reset_password(user.id, new)  # ends his other sessions
    audit.record(db.session.connection(), "password_change", "ab_user", user.id)
    db.session.commit()


# ---- what the portal shows ---------------------------------------------------------
def my_clients(user) -> list[Client]:
    """The clients the client user belongs to, by name (through the one scope)."""
    cond = scope.condition(user, Client, lambda *a: False, db.session)
    return list(db.session.execute(select(Client).where(cond).order_by(Client.name, Client.id))
                .scalars())


def load_client(user, client_id) -> Client | None:
    """His client by id, or None when it is not his (the caller answers 404)."""
    try:
        client_id = int(client_id)
    except (TypeError, ValueError):
        return None
    cond = scope.condition(user, Client, lambda *a: False, db.session)
    return db.session.execute(select(Client).where(Client.id == client_id, cond)).scalar()


@dataclass
class Person:
    name: str
    phone: str | None


@dataclass
class Filing:
    kind: str
    period: str | None
    deadline: datetime.date | None
    done: bool
    done_on: datetime.date | None = None
    overdue: bool = False


@dataclass
class Overview:
    client: Client
    bookkeeper: Person | None
    field_agent: Person | None
    contract: Contract | None
    filings: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    #: 应收 from the ledger: his open charges (oldest first), what he owes in all
    #: (past due), and his last approved receipts
    charges: list = field(default_factory=list)
    owed: object = None
    receipts: list = field(default_factory=list)


def _person(user_id) -> Person | None:
    if user_id is None:
        return None
    staff = db.session.get(Staff, user_id)
    return Person(staff.get_full_name(), staff.phone) if staff is not None else None


def overview(client: Client, today: datetime.date) -> Overview:
    """What the client sees of himself: his two accountants, the approved contract
    running today (else the latest approved), the filings of this period and the
    last ones done (已申报/待申报 with the deadline), his invoices."""
    contract = db.session.execute(
        select(Contract).where(Contract.client_id == client.id, Contract.status == "approved")
        .order_by(Contract.end_date.desc(), Contract.id.desc())).scalars().first()
    running = db.session.execute(
        select(Contract).where(Contract.client_id == client.id, Contract.status == "approved",
                               Contract.start_date <= today, Contract.end_date >= today)
        .order_by(Contract.end_date.desc())).scalars().first()
    filings = []
    for obligation, kind in db.session.execute(
            select(Obligation, ObligationType.name)
            .join(ObligationType, ObligationType.id == Obligation.type_id)
            .where(Obligation.client_id == client.id, Obligation.active.is_(True),
                   ObligationType.category == "filing")
            .order_by(Obligation.deadline, ObligationType.sort_order)):
        filings.append(Filing(kind, obligation.period, obligation.deadline, False,
                              overdue=obligation.deadline < today))
    for record, kind in db.session.execute(
            select(ObligationRecord, ObligationType.name)
            .join(ObligationType, ObligationType.id == ObligationRecord.type_id)
            .where(ObligationRecord.client_id == client.id, ObligationRecord.kind == "complete",
                   ObligationType.category == "filing")
            .order_by(ObligationRecord.id.desc()).limit(ROWS)):
        filings.append(Filing(kind, record.period, record.due_date, True,
                              done_on=record.at.date() if record.at else None))
    invoices = list(db.session.execute(
        select(Invoice).where(Invoice.client_id == client.id)
        .order_by(Invoice.created_on.desc(), Invoice.id.desc()).limit(ROWS)).scalars())
    charges, owed, receipts = _fees(client.id, today)
    return Overview(client=client, bookkeeper=_person(client.bookkeeper_id),
                    field_agent=_person(client.field_agent_id),
                    contract=running or contract, filings=filings, invoices=invoices,
                    charges=charges, owed=owed, receipts=receipts)


def _fees(client_id: int, today: datetime.date):
    """(open charges oldest first with what is left of each, the amount owed past
    due, the last approved receipts) — the ledger's own figures (``services.ledger``)."""
    from ..models import Charge, Receipt
    from .ledger import arrears_figures

    charges = db.session.execute(
        select(Charge).where(Charge.client_id == client_id, Charge.state == "open")
        .order_by(Charge.due_date, Charge.id).limit(ROWS)).scalars().all()
    figures = arrears_figures([client_id], today).get(client_id)
    owed = figures[1] if figures else None
    receipts = db.session.execute(
        select(Receipt).where(Receipt.client_id == client_id, Receipt.status == "approved")
        .order_by(Receipt.received_on.desc(), Receipt.id.desc()).limit(ROWS)).scalars().all()
    return ([(ch, ch.amount - ch.paid - ch.written_off, ch.due_date < today) for ch in charges],
            owed, receipts)


def load_request(user, client_id: int, request_id):
    """His request by id, of the client ``client_id`` (already his), or None."""
    from ..models import ServiceRequest

    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        return None
    cond = scope.condition(user, ServiceRequest, lambda *a: False, db.session)
    return db.session.execute(select(ServiceRequest).where(
        ServiceRequest.id == request_id, ServiceRequest.client_id == client_id, cond)).scalar()
