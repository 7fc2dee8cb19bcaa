"""Reminders the daily job leaves as 待办事项: contracts and addresses about to expire."""
from __future__ import annotations

import datetime

from flask_babel import gettext
from sqlalchemy import select

from ..extensions import db
from ..models import AddressService, Client, Contract, Todo

REMIND_DAYS = 30


def remind_expiring(today: datetime.date, days: int = REMIND_DAYS, commit: bool = True) -> int:
    """One todo per contract / address expiring within ``days`` days, for the client's
    记账会计; a reminder already created (same title, same client) is not repeated.
    ``commit=False`` leaves the commit to the caller (the scheduler commits the work
    with the run's outcome)."""
    horizon = today + datetime.timedelta(days=days)
    wanted = []
    for contract, client in db.session.execute(
            select(Contract, Client).join(Client, Contract.client_id == Client.id)
            .where(Contract.end_date >= today, Contract.end_date <= horizon,
                   Client.status == "active")):
        title = gettext("Renew contract %(number)s: ends %(date)s",
                        number=contract.number or contract.id, date=contract.end_date.isoformat())
        wanted.append((client, title, contract.end_date))
    for address, client in db.session.execute(
            select(AddressService, Client).join(Client, AddressService.client_id == Client.id)
            .where(AddressService.expiry_date >= today, AddressService.expiry_date <= horizon,
                   Client.status == "active")):
        title = gettext("Renew address service: expires %(date)s",
                        date=address.expiry_date.isoformat())
        wanted.append((client, title, address.expiry_date))
    if not wanted:
        return 0
    existing = set(db.session.execute(
        select(Todo.client_id, Todo.title).where(
            Todo.client_id.in_({c.id for c, _, _ in wanted}))).all())
    created = 0
    for client, title, due in wanted:
        if (client.id, title) in existing:
            continue
        db.session.add(Todo(title=title, client_id=client.id, assignee_id=client.bookkeeper_id,
                            expected_date=due))
        existing.add((client.id, title))
        created += 1
    if commit:
        db.session.commit()
    return created


def remind_deadlines(today: datetime.date, commit: bool = True) -> int:
    """Filings and recurring work coming due: one todo per assignee, obligation type
    and period, the type's warn days before the deadline ("增值税 2026-11: 23 clients,
    deadline 2026-12-15"), made once (``Todo.source_key``)."""
    from sqlalchemy import func

    from ..models import Obligation, ObligationType

    horizon = today + datetime.timedelta(days=366)
    rows = db.session.execute(
        select(Obligation.assignee_id, Obligation.type_id, ObligationType.name,
               ObligationType.warn_days, Obligation.period, func.min(Obligation.deadline),
               func.count())
        .join(ObligationType, ObligationType.id == Obligation.type_id)
        .where(Obligation.active.is_(True), Obligation.assignee_id.isnot(None),
               Obligation.deadline >= today, Obligation.deadline <= horizon)
        .group_by(Obligation.assignee_id, Obligation.type_id, ObligationType.name,
                  ObligationType.warn_days, Obligation.period)).all()
    wanted = []
    for assignee, type_id, name, warn, period, due, count in rows:
        if due > today + datetime.timedelta(days=warn or 0):
            continue
        wanted.append({
            "title": gettext("%(kind)s %(period)s: %(n)d client(s), deadline %(date)s",
                             kind=name, period=period or "", n=count, date=due.isoformat())[:200],
            "assignee_id": assignee, "created_by_id": None, "expected_date": due,
            "source_key": f"deadline:{assignee}:{type_id}:{period}"[:64]})
    if not wanted:
        return 0
    have = set(db.session.execute(select(Todo.source_key).where(
        Todo.source_key.in_([w["source_key"] for w in wanted]))).scalars())
    created = 0
    for values in wanted:
        if values["source_key"] in have:
            continue
        db.session.add(Todo(**values))
        created += 1
    if commit:
        db.session.commit()
    return created
