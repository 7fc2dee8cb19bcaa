"""销售 changes that touch the database: the 1-3-7 follow-ups of a new lead, a
follow-up recorded (and the next one planned), the 公共池 (return and claim,
exactly once), reassigning leads, a sales contract's amounts, and the approved
contract's lead becoming a client. Each takes its rows already loaded through the
scope and the date or time as a parameter."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select, update

from .. import audit
from ..domain import sales as rules
from ..extensions import db
from ..models import (BusinessType, Client, Contract, FollowUp, Lead, SalesContract,
                      SalesContractLine)
from . import contacts, settings

CADENCE_KEY = "sales_cadence"
POOL_DAYS_KEY = "sales_pool_days"
CLAIM_LIMIT_KEY = "sales_claim_limit"
#: the stages of a lead its owner is working on
ACTIVE_STAGES = ("new", "following")


# ---- settings -------------------------------------------------------------------------
def cadence() -> tuple[int, ...]:
    """The contact rule's days (Setting ``sales_cadence``, default 1,3,7)."""
    try:
        return rules.parse_cadence(settings.get(CADENCE_KEY, rules.DEFAULT_CADENCE))
    except rules.CadenceError:
        return rules.parse_cadence(rules.DEFAULT_CADENCE)


def _int_setting(key: str, default: int) -> int:
    text = settings.get(key, "").strip()
    return int(text) if text.isdigit() and 0 < int(text) <= 10_000 else default


def pool_days() -> int:
    return _int_setting(POOL_DAYS_KEY, rules.DEFAULT_POOL_DAYS)


def claim_limit() -> int:
    return _int_setting(CLAIM_LIMIT_KEY, rules.DEFAULT_CLAIM_LIMIT)


def save_settings(cadence_text: str, days: int, limit: int) -> None:
    """:raises rules.CadenceError: the cadence is not a list of days."""
    days_text = ",".join(str(d) for d in rules.parse_cadence(cadence_text))
    settings.put(CADENCE_KEY, days_text)
    settings.put(POOL_DAYS_KEY, str(int(days)))
    settings.put(CLAIM_LIMIT_KEY, str(int(limit)))
    db.session.commit()


def salespeople() -> list:
    """Active staff with the Sales role (and managers), in name order: whom leads may
    be given to."""
    from flask_appbuilder.security.sqla.models import Role

    from ..models import Staff

    return (db.session.query(Staff).filter(Staff.active.is_(True))
            .filter(Staff.roles.any(Role.name.in_(("Sales", "Manager"))))
            .order_by(Staff.last_name, Staff.first_name).all())


# ---- new leads and follow-ups ---------------------------------------------------------
def check_stage(lead: Lead) -> None:
    """A stage set by a person (form, API, import) is one he may set.

    :raises FieldErrors: beside the stage field.
    """
    from sqlalchemy import inspect

    from ..domain.validation import FieldErrors

    history = inspect(lead).attrs.stage.history
    if history.added and lead.stage not in rules.SETTABLE_STAGES \
            and history.deleted != [lead.stage]:
        raise FieldErrors.one("stage", rules.STAGE_NOT_SETTABLE)


def prepare_new_lead(lead: Lead, by, today: datetime.date) -> None:
    """A new lead starts as 新线索, held by whoever entered it unless an owner was
    chosen, given to him today."""
    if lead.owner_id is None and lead.owner is None and getattr(by, "id", None) is not None:
        # the relation, not the id: a form set the relation (to blank), and the
        # relation wins at flush
        from ..models import Staff

        lead.owner = db.session.get(Staff, by.id)
    if lead.stage not in ("new", "following"):
        lead.stage = "new"
    lead.created_by_id = getattr(by, "id", None)
    lead.assigned_on = today
    lead.client_id = None
    lead.pool_on = None
    lead.last_follow_up_on = None


def start_cadence(lead: Lead, today: datetime.date) -> int:
    """The follow-ups a new lead must get (day 1, 3, 7 by default)."""
    days = cadence()
    for day, due in zip(days, rules.cadence_dates(today, days)):
        db.session.add(FollowUp(lead_id=lead.id, due_date=due, cadence_day=day, way="phone"))
    return len(days)


def record_follow_up(item: FollowUp, by, now: datetime.datetime,
                     today: datetime.date | None = None) -> FollowUp | None:
    """A follow-up written down (content given): it is done now, by ``by``; its lead
    moves from 新线索 to 跟进中 and remembers the day; a 下次联系 date plans the next
    follow-up (once). :return: the planned next follow-up, if one was made."""
    today = today or now.date()
    if not (item.content or "").strip():
        # nothing written down: a plan (for the 下次联系 date given, else today)
        if item.due_date is None:
            item.due_date = item.next_contact_date or today
        return None
    if item.done_at is None:
        item.done_at = now.replace(tzinfo=None, microsecond=0)
        item.done_on = today
        item.done_by_id = by.id
    if item.due_date is None:
        item.due_date = today
    lead = item.lead or db.session.get(Lead, item.lead_id)
    if lead is not None:
        if lead.stage == "new":
            lead.stage = "following"
        if lead.last_follow_up_on is None or lead.last_follow_up_on < today:
            lead.last_follow_up_on = today
    nxt = item.next_contact_date
    if nxt is None or lead is None:
        return None
    with db.session.no_autoflush:
        planned = db.session.execute(select(FollowUp.id).where(
            FollowUp.lead_id == lead.id, FollowUp.due_date == nxt,
            FollowUp.done_on.is_(None))).first()
    if planned:
        return None
    follow = FollowUp(lead=lead, due_date=nxt, way=item.way or "phone")
    db.session.add(follow)
    return follow


def comment(item: FollowUp, text: str, by, now: datetime.datetime) -> None:
    """A supervisor's 批注 on a follow-up (the salesperson sees it on the timeline)."""
    item.comment = text
    item.comment_by_id = by.id
    item.comment_at = now.replace(tzinfo=None, microsecond=0)
    db.session.commit()


def missed_condition(today: datetime.date):
    """未完成 1-3-7: a step of the contact rule done after its day, or not done and
    its day has passed (the SQL form of ``rules.missed``)."""
    return and_(FollowUp.cadence_day.isnot(None),
                or_(FollowUp.done_on > FollowUp.due_date,
                    and_(FollowUp.done_on.is_(None), FollowUp.due_date < today)))


# ---- the 公共池 --------------------------------------------------------------------------
@dataclass
class Result:
    changed: int = 0
    skipped: int = 0
    refused: int = 0
    notes: dict = field(default_factory=dict)


def _last_contact(lead_row) -> datetime.date:
    dates = [d for d in (lead_row.last_follow_up_on, lead_row.assigned_on) if d is not None]
    return max(dates) if dates else lead_row.created_on.date()


def return_to_pool(today: datetime.date, days: int | None = None, commit: bool = True) -> int:
    """Leads with no follow-up done for ``days`` days (setting) go back to the pool:
    no owner, stage 公共池, audit-logged. Each row moves with a compare-and-set on its
    owner and stage (a claim or a follow-up in between wins)."""
    days = pool_days() if days is None else days
    horizon = today - datetime.timedelta(days=days)
    table = Lead.__table__
    candidates = db.session.execute(
        select(table.c.id, table.c.owner_id, table.c.stage, table.c.last_follow_up_on,
               table.c.assigned_on, table.c.created_on)
        .where(table.c.stage.in_(ACTIVE_STAGES), table.c.client_id.is_(None),
               or_(table.c.last_follow_up_on.is_(None), table.c.last_follow_up_on <= horizon),
               or_(table.c.assigned_on.is_(None), table.c.assigned_on <= horizon))
        .order_by(table.c.id)).all()
    conn = db.session.connection()
    moved = 0
    for row in candidates:
        if not rules.returns_to_pool(_last_contact(row), today, days):
            continue
        done = conn.execute(update(table).where(
            table.c.id == row.id, table.c.stage == row.stage,
            table.c.owner_id.is_(None) if row.owner_id is None else table.c.owner_id == row.owner_id,
            or_(table.c.last_follow_up_on.is_(None), table.c.last_follow_up_on <= horizon))
            .values(stage="pool", owner_id=None, pool_on=today)).rowcount
        if done != 1:
            continue
        contacts.set_owner(conn, [row.id], None)
        audit.record(conn, "update", "lead", row.id, changes={
            "stage": [row.stage, "pool"], "owner_id": [row.owner_id, None],
            "reason": f"no follow-up for {days} days"})
        moved += 1
    if commit:
        db.session.commit()
    return moved


def active_held(user_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Lead).where(
        Lead.owner_id == user_id, Lead.stage.in_(ACTIVE_STAGES))).scalar()


def claim(items, by, today: datetime.date) -> Result:
    """Claim leads from the pool, up to the limit of active leads (setting). Exactly
    once: ``UPDATE … WHERE stage = '公共池'`` — of two salespeople claiming the same
    lead at once, one moves it and the other finds it gone (skipped)."""
    limit = claim_limit()
    result = Result()
    table = Lead.__table__
    conn = db.session.connection()
    held = active_held(by.id)
    for item in sorted(items, key=lambda row: row.id):
        if not rules.may_claim(held, limit):
            result.refused += 1
            continue
        done = conn.execute(update(table).where(table.c.id == item.id, table.c.stage == "pool")
                            .values(stage="following", owner_id=by.id, assigned_on=today,
                                    pool_on=None)).rowcount
        if done != 1:
            result.skipped += 1
            continue
        contacts.set_owner(conn, [item.id], by.id)
        audit.record(conn, "update", "lead", item.id, changes={
            "stage": ["pool", "following"], "owner_id": [None, by.id], "reason": "claim"})
        held += 1
        result.changed += 1
    db.session.commit()
    for item in items:
        db.session.expire(item)
    return result


def reassign(items, to_id: int, today: datetime.date) -> Result:
    """A sales manager gives leads to another salesperson (active leads stay active;
    a lead in the pool is claimed for him)."""
    result = Result()
    table = Lead.__table__
    conn = db.session.connection()
    for item in sorted(items, key=lambda row: row.id):
        if item.client_id is not None or item.stage in ("won",):
            result.skipped += 1
            continue
        old_owner, old_stage = item.owner_id, item.stage
        stage = "following" if old_stage == "pool" else old_stage
        done = conn.execute(update(table).where(
            table.c.id == item.id, table.c.stage == old_stage,
            table.c.client_id.is_(None))
            .values(owner_id=to_id, stage=stage, assigned_on=today, pool_on=None)).rowcount
        if done != 1:
            result.skipped += 1
            continue
        contacts.set_owner(conn, [item.id], to_id)
        audit.record(conn, "update", "lead", item.id, changes={
            "owner_id": [old_owner, to_id], "stage": [old_stage, stage]})
        result.changed += 1
    db.session.commit()
    for item in items:
        db.session.expire(item)
    return result


def mark_lost(items) -> Result:
    """已流失: the lead keeps its history (follow-ups, contacts) and frees its contacts."""
    result = Result()
    for item in items:
        if item.stage in ACTIVE_STAGES:
            item.stage = "lost"
            result.changed += 1
        else:
            result.skipped += 1
    db.session.commit()
    return result


# ---- sales contracts -----------------------------------------------------------------------
def prepare_line(line: SalesContractLine) -> None:
    """An item takes its business type's price list entry where it was left blank,
    and its amount is computed (单价 × 数量 − 优惠)."""
    btype = line.business_type or (db.session.get(BusinessType, line.business_type_id)
                                   if line.business_type_id else None)
    if btype is not None:
        if line.unit_price is None:
            line.unit_price = btype.unit_price
        if not line.cycle:
            line.cycle = btype.cycle
    line.quantity = line.quantity or 1
    line.discount = line.discount or Decimal("0.00")
    if line.unit_price is not None:
        line.amount = rules.line_amount(line.unit_price, line.quantity, line.discount)


def computed_total(contract_id: int) -> Decimal:
    """The sum of a contract's items (domain rule), read from the database."""
    rows = db.session.execute(select(SalesContractLine.unit_price, SalesContractLine.quantity,
                                     SalesContractLine.discount)
                              .where(SalesContractLine.contract_id == contract_id)).all()
    return rules.contract_total([tuple(r) for r in rows])


def refresh_total(contract_id: int) -> None:
    contract = db.session.get(SalesContract, contract_id)
    if contract is not None:
        total = computed_total(contract_id)
        if contract.total != total:
            contract.total = total


def prepare_contract(contract: SalesContract) -> None:
    """A new contract's lead is won (跟进中 → 已成交 happens at approval); its invoice
    title defaults to the lead's name."""
    lead = contract.lead or (db.session.get(Lead, contract.lead_id) if contract.lead_id else None)
    if lead is not None and contract.invoice_needed and not contract.invoice_title:
        contract.invoice_title = lead.name
    contract.client_id = None
    contract.contract_id = None


def convert_to_client(contract: SalesContract, by, now: datetime.datetime) -> bool:
    """The approved contract's lead becomes a client: name, credit code, contacts,
    source, fee and billing cycle, the contract's term and first fee date, and its
    salesperson; the contract appears in 合同管理 for the client (approved). One
    approval, one client: the contract's and the lead's client links are set with a
    compare-and-set (and are unique in the database).

    :return: whether a client was made (False: the lead was already won).
    """
    conn = db.session.connection()
    lead = db.session.get(Lead, contract.lead_id)
    if lead is None or lead.client_id is not None:
        return False
    lines = db.session.execute(select(SalesContractLine.cycle, SalesContractLine.amount,
                                      SalesContractLine.quantity)
                               .where(SalesContractLine.contract_id == contract.id)).all()
    cycle, fee = rules.client_terms([(c, rules.per_period(a, q)) for c, a, q in lines])
    credit = lead.credit_code
    if credit and db.session.execute(select(Client.id).where(Client.credit_code == credit)).first():
        credit = None  # held by a client already: the Manager completes it by hand
    bookkeeping = any(c != "once" for c, _, _ in lines)
    client = Client(name=lead.name, credit_code=credit, contact_name=lead.contact_name,
                    contact_phone=lead.mobile or lead.landline, source_id=lead.source_id,
                    billing_cycle=cycle, service_fee=fee,
                    billing_state="billed" if fee > 0 else "free",
                    next_fee_date=contract.first_fee_date if fee > 0 else None,
                    contract_start=contract.start_date, contract_end=contract.end_date,
                    sales_id=lead.owner_id,
                    status="active" if bookkeeping else "license_only",
                    note=lead.note)
    db.session.add(client)
    db.session.flush()
    stamp = now.replace(tzinfo=None, microsecond=0)
    service = Contract(client_id=client.id, number=contract.number,
                       start_date=contract.start_date, end_date=contract.end_date,
                       fee=contract.total or Decimal("0.00"),
                       billing_cycle=cycle, status="approved",
                       created_by_id=contract.created_by_id, approved_by_id=by.id,
                       approved_at=stamp, note=contract.note)
    db.session.add(service)
    db.session.flush()
    sc = SalesContract.__table__
    done = conn.execute(update(sc).where(sc.c.id == contract.id, sc.c.client_id.is_(None))
                        .values(client_id=client.id, contract_id=service.id)).rowcount
    lt = Lead.__table__
    won = conn.execute(update(lt).where(lt.c.id == lead.id, lt.c.client_id.is_(None))
                       .values(client_id=client.id, stage="won")).rowcount
    if done != 1 or won != 1:
        raise RuntimeError("sales contract converted twice")  # the unique links refuse it too
    contacts.repoint_to_client(conn, lead.id, client.id)
    audit.record(conn, "update", "lead", lead.id, changes={
        "stage": [lead.stage, "won"], "client_id": [None, client.id]})
    db.session.expire(lead)
    return True


# ---- the sales desk and the reports (through the scope) -----------------------------------
def _month_expr(column):
    """``YYYY-MM`` of a date/time column, in the database's own words."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


@dataclass
class Desk:
    """The 销售工作台 numbers of one user (his leads, or his team's)."""

    today_follow_ups: list
    missed: int
    by_stage: dict
    pool: int
    waiting: int
    signed_month: Decimal
    signed_count: int


def desk(lead_cond, today: datetime.date) -> Desk:
    """The desk of a user whose visible leads are ``lead_cond`` (None: all)."""
    where = [lead_cond] if lead_cond is not None else []
    visible = select(Lead.id).where(*where, Lead.stage != "pool")  # held leads only
    todays = db.session.execute(
        select(FollowUp, Lead.name).join(Lead, Lead.id == FollowUp.lead_id)
        .where(FollowUp.done_on.is_(None), FollowUp.due_date <= today,
               Lead.stage.in_(ACTIVE_STAGES), *where)
        .order_by(FollowUp.due_date, FollowUp.id).limit(20)).all()
    missed = db.session.execute(select(func.count()).select_from(FollowUp).where(
        missed_condition(today), FollowUp.lead_id.in_(visible))).scalar()
    stages = dict(db.session.execute(select(Lead.stage, func.count()).where(*where)
                                     .group_by(Lead.stage)).all())
    pool = db.session.execute(select(func.count()).select_from(Lead)
                              .where(Lead.stage == "pool")).scalar()
    waiting = db.session.execute(select(func.count()).select_from(SalesContract).where(
        SalesContract.status == "pending", SalesContract.lead_id.in_(visible))).scalar()
    first = today.replace(day=1)
    start = datetime.datetime.combine(first, datetime.time())
    signed = db.session.execute(select(func.coalesce(func.sum(SalesContract.total), 0),
                                       func.count()).where(
        SalesContract.status == "approved", SalesContract.approved_at >= start,
        SalesContract.lead_id.in_(visible))).one()
    return Desk(todays, missed, stages, pool, waiting, Decimal(signed[0]).quantize(rules.CENT),
                signed[1])


@dataclass
class Report:
    by_source: list      # (source name, leads, won)
    by_month: list       # (YYYY-MM, leads, won)
    funnel: list         # (stage, count)
    by_salesperson: list  # (name, amount)
    by_type: list        # (business type, amount)


def report(lead_cond, year: int) -> Report:
    """转化率 by source and by month, the funnel by stage, signed amounts per
    salesperson and per business type — of the leads the user sees, in ``year``."""
    from ..models import DictItem, Staff
    from ..models.users import display_name

    start = datetime.datetime(year, 1, 1)
    end = datetime.datetime(year + 1, 1, 1)
    where = [Lead.created_on >= start, Lead.created_on < end]
    if lead_cond is not None:
        where.append(lead_cond)
    won = func.sum(case((Lead.client_id.isnot(None), 1), else_=0))
    by_source = db.session.execute(
        select(DictItem.name, func.count(Lead.id), won)
        .select_from(Lead).outerjoin(DictItem, DictItem.id == Lead.source_id)
        .where(*where).group_by(DictItem.name).order_by(func.count(Lead.id).desc())).all()
    month = _month_expr(Lead.created_on)
    by_month = db.session.execute(select(month, func.count(Lead.id), won).where(*where)
                                  .group_by(month).order_by(month)).all()
    funnel = db.session.execute(select(Lead.stage, func.count()).where(*where)
                                .group_by(Lead.stage)).all()
    approved = [SalesContract.status == "approved", SalesContract.approved_at >= start,
                SalesContract.approved_at < end]
    if lead_cond is not None:
        approved.append(SalesContract.lead_id.in_(select(Lead.id).where(lead_cond)))
    people = db.session.execute(
        select(Staff.first_name, Staff.last_name, func.sum(SalesContract.total))
        .select_from(SalesContract).join(Lead, Lead.id == SalesContract.lead_id)
        .outerjoin(Staff, Staff.id == Lead.owner_id).where(*approved)
        .group_by(Staff.id, Staff.first_name, Staff.last_name)
        .order_by(func.sum(SalesContract.total).desc())).all()
    types = db.session.execute(
        select(BusinessType.name, func.sum(SalesContractLine.amount))
        .select_from(SalesContractLine)
        .join(SalesContract, SalesContract.id == SalesContractLine.contract_id)
        .join(BusinessType, BusinessType.id == SalesContractLine.business_type_id)
        .where(*approved).group_by(BusinessType.name)
        .order_by(func.sum(SalesContractLine.amount).desc())).all()
    return Report(
        by_source=[(name, n, int(w or 0)) for name, n, w in by_source],
        by_month=[(m, n, int(w or 0)) for m, n, w in by_month],
        funnel=[(stage, n) for stage, n in funnel],
        by_salesperson=[(display_name(f, l), Decimal(a or 0)) for f, l, a in people],
        by_type=[(name, Decimal(a or 0)) for name, a in types])
