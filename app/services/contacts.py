"""防撞单: the shared index of contact keys, kept in step with every lead, contact
person and client, and the duplicate check every writer of a lead passes.

Both run on the session's flush (``install``), so the lead form, the REST API, the
import, the demo data and the CLI cannot store a lead past the check or leave the
index behind:

- before a flush, every new or changed lead (and contact person of a lead) has its
  values normalised (``app.domain.contacts``) and looked up by ``(kind, value)`` in
  ``contact_key``: a value held by a client, or by another salesperson's lead that
  is not 已流失 / in the 公共池, refuses the write with a message naming only the
  holder (the salesperson, or 已签约客户) and the date (:class:`DuplicateContact`
  is a ``FieldErrors``: beside the field on the screens, 422 on the API, a row error
  in the import);
- after the flush, the keys of each lead or client written are rebuilt from its row
  and its contact persons (delete + insert, in the same transaction).
"""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import and_, delete, event, insert, or_, select, update
from sqlalchemy.orm import Session

from ..domain import contacts as rules
from ..domain.choices import LEAD_STAGES_FREE, N_
from ..domain.validation import FieldErrors
from ..models import Client, Contact, ContactKey, Lead, Staff

#: the message of a refused duplicate (the holder and the date, nothing else)
DUPLICATE = N_("Duplicate (防撞单): this contact is already registered by %(holder)s on "
               "%(date)s.")
SIGNED_CLIENT = N_("a signed client")
#: the lead columns a client's keys come from (its phone columns are mobile or landline)
CLIENT_PHONES = ("contact_phone", "legal_rep_phone")
LEAD_COLUMNS = ("credit_code", "mobile", "wechat", "qq", "landline", "email")
CONTACT_COLUMNS = ("mobile", "wechat", "qq", "landline", "email")


class DuplicateContact(FieldErrors):
    """A lead's contact value is held by someone else (field → message)."""


def _values(obj, columns) -> dict:
    return {c: getattr(obj, c, None) for c in columns}


def lead_keys(lead_values: dict, contact_rows) -> set[tuple[str, str]]:
    """The keys of a lead: its own columns and its contact persons'."""
    found = rules.keys_of(lead_values)
    for row in contact_rows:
        found |= rules.keys_of(row)
    return found


def client_keys(client_values: dict, contact_rows) -> set[tuple[str, str]]:
    """The keys of a client: its credit code, its phone columns and the contact
    persons added to it directly."""
    values = {"credit_code": client_values.get("credit_code")}
    for column in CLIENT_PHONES:
        values["phone:" + column] = client_values.get(column)
    found = rules.keys_of(values)
    for row in contact_rows:
        found |= rules.keys_of(row)
    return found


# ---- the check ----------------------------------------------------------------------
def find_holder(session, kind: str, value: str, own_lead_id=None, owner_id=None):
    """The first holder of key ``(kind, value)`` other than lead ``own_lead_id`` and
    other than a lead of ``owner_id`` himself: ``(client?, owner id, date)`` or None.
    One index lookup on ``ix_contact_key_value`` (and the holder's lead by id)."""
    key = ContactKey.__table__
    lead = Lead.__table__
    query = (select(key.c.client_id, key.c.lead_id, key.c.created_at, lead.c.owner_id,
                    lead.c.client_id.label("won_client"), lead.c.assigned_on,
                    lead.c.created_on)
             .select_from(key.outerjoin(lead, lead.c.id == key.c.lead_id))
             .where(key.c.kind == kind, key.c.value == value,
                    or_(key.c.client_id.isnot(None), lead.c.client_id.isnot(None),
                        # (plain comparisons: an expanding NOT IN is post-compiled on
                        # every call, ~2 ms per lookup)
                        and_(lead.c.id.isnot(None),
                             *[lead.c.stage != stage for stage in LEAD_STAGES_FREE]))))
    if own_lead_id is not None:
        query = query.where(or_(key.c.lead_id.is_(None), key.c.lead_id != own_lead_id))
    if owner_id is not None:
        # his own other leads are not a 撞单 (a client always is)
        query = query.where(or_(key.c.client_id.isnot(None), lead.c.client_id.isnot(None),
                                lead.c.owner_id.is_(None), lead.c.owner_id != owner_id))
    with session.no_autoflush:
        row = session.execute(query.order_by(key.c.id).limit(1)).first()
    if row is None:
        return None
    signed = row.client_id is not None or row.won_client is not None
    since = row.created_at
    if row.lead_id is not None and not signed:
        since = row.assigned_on or row.created_on  # since he holds it
    return signed, row.owner_id, since


def _hold_values(session, keys) -> None:
    """Two salespeople entering the same mobile at the same moment: on PostgreSQL each
    value is held with a transaction-level advisory lock (in a fixed order) from the
    check until the commit, so the second one's check waits and then finds the first
    one's key. SQLite writes one transaction at a time anyway."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with session.no_autoflush:
        for kind, value in sorted(set(keys)):
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                            {"k": f"contact:{kind}:{value}"})


def holder_text(session, signed: bool, owner_id) -> str:
    """Who holds a value, as the message names him: the salesperson's name, or
    已签约客户 (nothing else of the other record)."""
    if signed or owner_id is None:
        return gettext(SIGNED_CLIENT)
    with session.no_autoflush:
        staff = session.get(Staff, owner_id)
    return staff.get_full_name() if staff is not None else gettext(SIGNED_CLIENT)


def check_lead_values(session, values: dict, own_lead_id=None, owner_id=None) -> None:
    """Refuse contact values (lead columns: ``credit_code``, ``mobile`` …) held by a
    client or by another salesperson's active lead.

    :raises DuplicateContact: field → the holder and the date.
    """
    errors = {}
    wanted = []
    for kind, column in rules.COLUMNS.items():
        text = values.get(column)
        if not text:
            continue
        try:
            wanted.append((kind, column, rules.normalise(kind, text)))
        except rules.ContactError:
            continue  # the field rule says what is wrong with it
    _hold_values(session, [(kind, value) for kind, _, value in wanted])
    for kind, column, value in wanted:
        found = find_holder(session, kind, value, own_lead_id, owner_id)
        if found is not None:
            signed, holder, since = found
            errors[column] = [(DUPLICATE, {
                "holder": holder_text(session, signed, holder),
                "date": since.strftime("%Y-%m-%d") if since else ""})]
    if errors:
        raise DuplicateContact(errors)


def _changed(obj, columns) -> bool:
    from sqlalchemy import inspect

    state = inspect(obj)
    if state.transient or state.pending:
        return True
    return any(state.attrs[c].history.has_changes() for c in columns)


def _before_flush(session: Session, flush_context, instances) -> None:
    problems = FieldErrors({})
    for obj in list(session.new) + list(session.dirty):
        try:
            if isinstance(obj, Lead):
                if obj.stage in LEAD_STAGES_FREE or obj.client_id is not None:
                    continue  # a lost or pooled lead holds nothing; a won one is a client
                if not _changed(obj, LEAD_COLUMNS + ("owner_id", "stage")):
                    continue
                # the relation wins at flush (a form sets it): its id, else the column
                owner = obj.owner.id if obj.owner is not None else obj.owner_id
                check_lead_values(session, _values(obj, LEAD_COLUMNS), obj.id, owner)
            elif isinstance(obj, Contact) and (obj.lead_id or obj.lead is not None):
                lead = obj.lead or session.get(Lead, obj.lead_id)
                if lead is None or lead.stage in LEAD_STAGES_FREE or lead.client_id:
                    continue
                if not _changed(obj, CONTACT_COLUMNS + ("lead_id",)):
                    continue
                check_lead_values(session, _values(obj, CONTACT_COLUMNS), lead.id,
                                  lead.owner_id)
        except FieldErrors as exc:
            problems.merge(exc)
    if problems.errors:
        raise DuplicateContact(problems.errors)


# ---- the index --------------------------------------------------------------------------
def _after_flush(session: Session, flush_context) -> None:
    leads, clients = set(), set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Lead) and obj not in session.deleted:
            leads.add(obj.id)
        elif isinstance(obj, Contact):
            if obj.lead_id:
                leads.add(obj.lead_id)
            elif obj.client_id:
                clients.add(obj.client_id)
        elif isinstance(obj, Client) and obj not in session.deleted:
            clients.add(obj.id)
    leads.discard(None)
    clients.discard(None)
    conn = session.connection()
    for lead_id in sorted(leads):
        rebuild_lead(conn, lead_id)
    for client_id in sorted(clients):
        rebuild_client(conn, client_id)


def rebuild_lead(conn, lead_id: int) -> None:
    """The keys of one lead, from its row and its contact persons (and, once won,
    pointing at its client too)."""
    lead = Lead.__table__
    row = conn.execute(select(lead).where(lead.c.id == lead_id)).mappings().first()
    table = ContactKey.__table__
    conn.execute(delete(table).where(table.c.lead_id == lead_id))
    if row is None:
        return
    contact = Contact.__table__
    people = conn.execute(select(*[contact.c[c] for c in CONTACT_COLUMNS])
                          .where(contact.c.lead_id == lead_id)).mappings().all()
    keys = lead_keys(dict(row), people)
    if keys:
        conn.execute(insert(table), [
            {"kind": kind, "value": value, "lead_id": lead_id, "client_id": row["client_id"],
             "owner_id": row["owner_id"], "created_at": row["created_on"]}
            for kind, value in sorted(keys)])


def rebuild_client(conn, client_id: int) -> None:
    """The keys of one client from its own columns and the contact persons added to
    it directly (those of the lead it was won from keep their lead's keys)."""
    client = Client.__table__
    row = conn.execute(select(client).where(client.c.id == client_id)).mappings().first()
    table = ContactKey.__table__
    conn.execute(delete(table).where(table.c.client_id == client_id,
                                     table.c.lead_id.is_(None)))
    if row is None or row["status"] == "deleted":
        return
    contact = Contact.__table__
    people = conn.execute(select(*[contact.c[c] for c in CONTACT_COLUMNS])
                          .where(contact.c.client_id == client_id,
                                 contact.c.lead_id.is_(None))).mappings().all()
    keys = client_keys(dict(row), people)
    if keys:
        conn.execute(insert(table), [
            {"kind": kind, "value": value, "client_id": client_id,
             "owner_id": row["sales_id"], "created_at": row["created_on"]}
            for kind, value in sorted(keys)])


def repoint_to_client(conn, lead_id: int, client_id: int) -> None:
    """A won lead's contact persons and keys now belong to its client too."""
    conn.execute(update(Contact.__table__).where(Contact.__table__.c.lead_id == lead_id)
                 .values(client_id=client_id))
    conn.execute(update(ContactKey.__table__).where(ContactKey.__table__.c.lead_id == lead_id)
                 .values(client_id=client_id))


def set_owner(conn, lead_ids, owner_id) -> None:
    """Keep the keys' owner in step when leads change hands (claim, reassign, pool)."""
    conn.execute(update(ContactKey.__table__).where(
        ContactKey.__table__.c.lead_id.in_(list(lead_ids))).values(owner_id=owner_id))


_installed = False


def install() -> None:
    """Listen on every Session once per process (after the field rules' listener,
    so the values are already normalised)."""
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        _installed = True


def index_clients(conn, ids) -> int:
    """The keys of clients written in bulk (the import's and the demo's executemany
    INSERTs bypass the flush): a few thousand clients per query."""
    client = Client.__table__
    table = ContactKey.__table__
    ids = sorted(ids)
    written = 0
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        rows = conn.execute(select(client.c.id, client.c.credit_code, client.c.contact_phone,
                                   client.c.legal_rep_phone, client.c.sales_id,
                                   client.c.created_on).where(client.c.id.in_(chunk))).all()
        keys = []
        for row in rows:
            for kind, value in sorted(client_keys(row._mapping, [])):
                keys.append({"kind": kind, "value": value, "client_id": row.id,
                             "owner_id": row.sales_id, "created_at": row.created_on})
        if keys:
            conn.execute(insert(table), keys)
            written += len(keys)
    return written
