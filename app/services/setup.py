"""``flask init``: one idempotent command from an empty or older database to a
working one. Running it twice changes nothing."""
from __future__ import annotations

from flask import Flask
from flask_appbuilder.security.manager import BaseSecurityManager
from flask_migrate import upgrade
from sqlalchemy import select

from ..domain.choices import DEFAULT_DICT_ITEMS
from ..extensions import db
from ..models import DictItem
from ..security.grants import DEFAULT_ROLES, grants_of
from ..security.scope import CLIENT_TODOS_PERMISSION, SEE_ALL_PERMISSION


class GrantError(RuntimeError):
    """The grants table names permissions that no registered view or menu has."""


def initialise(app: Flask) -> str:
    """Migrate, sync FAB permissions, create/extend the default roles, ship dictionaries.

    :return: a one-line report of what was added.
    """
    upgrade(directory=app.extensions["migrate"].directory)
    from ..data import textsearch
    from ..models import Client

    textsearch.ensure_pg_indexes(db.session, Client)  # after a killed bulk load
    appbuilder = app.appbuilder
    sm = appbuilder.sm
    # FAB_CREATE_DB is off (Alembic owns the tables), so FAB's own create_db would
    # return early and the Admin/Public roles would never exist (FAB_NOTES).
    BaseSecurityManager.create_db(sm)
    sm.add_permission_view_menu(*SEE_ALL_PERMISSION)
    sm.add_permission_view_menu(*CLIENT_TODOS_PERMISSION)
    appbuilder.add_permissions(update_perms=True)
    admin = sm.find_role(sm.auth_role_admin)
    sm.add_permission_role(admin, sm.find_permission_view_menu(*SEE_ALL_PERMISSION))
    sm.add_permission_role(admin, sm.find_permission_view_menu(*CLIENT_TODOS_PERMISSION))
    missing = sorted({(role, perm, view) for role in DEFAULT_ROLES
                      for view, perms in grants_of(role).items() for perm in perms
                      if sm.find_permission_view_menu(perm, view) is None})
    if missing:
        db.session.rollback()
        raise GrantError("the grants table (app/security/grants.py) names permissions "
                         "that do not exist: " + ", ".join(
                             f"{role}: {perm} on {view}" for role, perm, view in missing))
    added = 0
    for role_name in DEFAULT_ROLES:
        role = sm.find_role(role_name) or sm.add_role(role_name)
        have = {(p.permission.name, p.view_menu.name) for p in role.permissions}
        for view_name, perms in grants_of(role_name).items():
            for perm in perms:
                if (perm, view_name) in have:
                    continue
                sm.add_permission_role(role, sm.find_permission_view_menu(perm, view_name))
                added += 1
    shipped = _ship_dictionaries() + _ship_business_types() + _ship_service_items()
    types = _ship_obligation_types() + _ship_filing_calendar()
    db.session.commit()
    from .calendar import refresh_deadlines
    from .obligations import fill_periods

    fill_periods()
    refresh_deadlines()
    from ..scheduler import ensure_jobs

    jobs = ensure_jobs()
    refresh_statistics()
    return (f"init: schema current, {added} role permission(s) added, {shipped} dictionary "
            f"entr(ies) added, {types} obligation type(s) added, {jobs} job(s) added")


def _ship_obligation_types() -> int:
    """The seven obligation types of SPEC.md, added once by code (never overwritten:
    an Admin may have changed a rule)."""
    from ..domain.recurrence import SHIPPED_TYPES
    from ..models import ObligationType

    have = set(db.session.execute(select(ObligationType.code)).scalars())
    added = 0
    for order, (code, (name, rule, applies_to)) in enumerate(SHIPPED_TYPES.items()):
        if code not in have:
            db.session.add(ObligationType(code=code, name=name, rule=rule,
                                          applies_to=applies_to, sort_order=order))
            added += 1
    return added


def _ship_filing_calendar() -> int:
    """The tax kinds (增值税, 个税 …) with their default cycles and legal deadlines,
    and the 2026 calendar, added once. On a database from before them, the shipped
    recurring types they replace (每月报税, 税务年报, 工商年检) are retired the first
    time (their history stays; an Admin may switch them on again)."""
    from ..domain.taxkinds import REPLACED_TASKS, SHIPPED_FILINGS
    from ..models import ObligationType
    from .calendar import ship_2026

    have = set(db.session.execute(select(ObligationType.code)).scalars())
    added = 0
    for order, (code, (name, small, general, annual)) in enumerate(SHIPPED_FILINGS.items()):
        if code in have:
            continue
        clash = db.session.execute(select(ObligationType).where(
            ObligationType.name == name)).scalar()
        if clash is not None:  # an Admin made it already: it becomes the shipped one
            clash.code, clash.category, clash.rule = code, "filing", None
            clash.cycle_small, clash.cycle_general = small, general
            clash.annual_month, clash.annual_day = annual or (None, None)
        else:
            db.session.add(ObligationType(
                code=code, name=name, category="filing", rule=None, applies_to="all_active",
                cycle_small=small, cycle_general=general,
                annual_month=annual[0] if annual else None,
                annual_day=annual[1] if annual else None, warn_days=5, sort_order=order))
        added += 1
    if added:
        for replaced in db.session.execute(select(ObligationType).where(
                ObligationType.code.in_(REPLACED_TASKS))).scalars():
            replaced.active = False
    ship_2026()
    return added


def _ship_business_types() -> int:
    """业务类型 and their price list entries, added once (an Admin edits them)."""
    from decimal import Decimal

    from ..domain.choices import DEFAULT_BUSINESS_TYPES
    from ..models import BusinessType

    if db.session.execute(select(BusinessType.id).limit(1)).first():
        return 0
    for order, (name, price, cycle) in enumerate(DEFAULT_BUSINESS_TYPES):
        db.session.add(BusinessType(name=name, unit_price=Decimal(price), cycle=cycle,
                                    sort_order=order, active=True))
    return len(DEFAULT_BUSINESS_TYPES)


def _ship_service_items() -> int:
    """服务项目 (seed 002) with price, expected days and hours to accept, added once
    (an Admin edits them)."""
    from decimal import Decimal

    from ..domain.choices import DEFAULT_SERVICE_ITEMS
    from ..models import ServiceItem

    if db.session.execute(select(ServiceItem.id).limit(1)).first():
        return 0
    for order, (name, price, days, hours) in enumerate(DEFAULT_SERVICE_ITEMS):
        db.session.add(ServiceItem(name=name, price=Decimal(price), expected_days=days,
                                   accept_hours=hours, sort_order=order, active=True))
    return len(DEFAULT_SERVICE_ITEMS)


def _ship_dictionaries() -> int:
    """Fill each dictionary that is still empty with the shipped entries."""
    added = 0
    for kind, names in DEFAULT_DICT_ITEMS.items():
        exists = db.session.execute(select(DictItem.id).where(DictItem.kind == kind).limit(1)).first()
        if exists:
            continue
        for order, name in enumerate(names):
            db.session.add(DictItem(kind=kind, name=name, sort_order=order, active=True))
            added += 1
    return added


def refresh_statistics() -> None:
    """ANALYZE, so the planner knows the scope indexes are selective (on SQLite the
    accountant's list went from ~10 ms to <1 ms of SQL with statistics; PostgreSQL's
    autovacuum does the same on its own after large loads)."""
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
