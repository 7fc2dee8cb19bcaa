"""Which tax kinds each client files, and how often (``client_tax_kind``): read and
changed for the client form, the import and the API alike; the obligations follow
at once (``obligations.sync_client``)."""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import select

from ..domain.taxkinds import CYCLES, default_cycle
from ..extensions import db
from ..models import Client, ClientTaxKind, ObligationType


def filing_types() -> list:
    """The active tax kinds in their order (read once per request)."""
    if has_request_context() and "_filing_types" in g:
        return g._filing_types
    types = db.session.execute(
        select(ObligationType).where(ObligationType.category == "filing",
                                     ObligationType.active.is_(True))
        .order_by(ObligationType.sort_order, ObligationType.id)).scalars().all()
    if has_request_context():
        g._filing_types = types
    return types


def names() -> dict:
    """Kind name → type id (the import and the API name kinds)."""
    return {t.name: t.id for t in filing_types()}


def kinds_of(client_id: int) -> dict:
    """``{type id: cycle}`` of a client (kinds he has no row for are missing)."""
    return dict(db.session.execute(
        select(ClientTaxKind.type_id, ClientTaxKind.cycle)
        .where(ClientTaxKind.client_id == client_id)).all())


def named_kinds_of(client_id: int) -> dict:
    """``{kind name: cycle}`` of a client, every active kind (the API's shape)."""
    mine = kinds_of(client_id)
    client = db.session.get(Client, client_id)
    return {t.name: mine.get(t.id) or default_cycle(client.taxpayer_type, t.cycle_small,
                                                    t.cycle_general)
            for t in filing_types()}


def set_kinds(client_id: int, kinds: dict) -> int:
    """Set the cycles given (``{type id: cycle}``); kinds not named keep theirs (a
    new client gets his taxpayer type's defaults from the sync). In the caller's
    transaction; the session's audit listener records each change.

    :return: rows changed.
    """
    if not kinds:
        return 0
    unknown = [c for c in kinds.values() if c not in CYCLES]
    if unknown:
        raise ValueError(unknown)
    rows = {r.type_id: r for r in db.session.execute(
        select(ClientTaxKind).where(ClientTaxKind.client_id == client_id)).scalars()}
    changed = 0
    for type_id, cycle in kinds.items():
        row = rows.get(type_id)
        if row is None:
            db.session.add(ClientTaxKind(client_id=client_id, type_id=type_id, cycle=cycle))
            changed += 1
        elif row.cycle != cycle:
            row.cycle = cycle
            changed += 1
    return changed
