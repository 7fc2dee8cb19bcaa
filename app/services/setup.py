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
from ..security.roles import DEFAULT_ROLES, ROLE_PERMISSIONS, SELF_SERVICE
from ..security.scope import CLIENT_TODOS_PERMISSION, SEE_ALL_PERMISSION


def initialise(app: Flask) -> str:
    """Migrate, sync FAB permissions, create/extend the default roles, ship dictionaries.

    :return: a one-line report of what was added.
    """
    upgrade(directory=app.extensions["migrate"].directory)
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
    added = 0
    for role_name in DEFAULT_ROLES:
        role = sm.find_role(role_name) or sm.add_role(role_name)
        grants = {} if role_name == "Admin" else {**merged_grants().get(role_name, {}),
                                                   **SELF_SERVICE}
        have = {(p.permission.name, p.view_menu.name) for p in role.permissions}
        for view_name, perms in grants.items():
            for perm in perms:
                if (perm, view_name) in have:
                    continue
                pvm = sm.find_permission_view_menu(perm, view_name)
                if pvm is None:
                    continue  # a view this version does not have
                sm.add_permission_role(role, pvm)
                added += 1
    shipped = _ship_dictionaries()
    types = _ship_obligation_types()
    db.session.commit()
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


def merged_grants() -> dict:
    """``ROLE_PERMISSIONS`` plus the ``ROLE_GRANTS`` each module area declares beside
    its views (finance, invoices), merged per role and view (union of permissions)."""
    import importlib

    merged = {role: {view: tuple(perms) for view, perms in views.items()}
              for role, views in ROLE_PERMISSIONS.items()}
    for module in ("app.views.finance", "app.views.invoices"):
        try:
            grants = importlib.import_module(module).ROLE_GRANTS
        except (ImportError, AttributeError):
            continue
        for role, views in grants.items():
            target = merged.setdefault(role, {})
            for view, perms in views.items():
                target[view] = tuple(dict.fromkeys(target.get(view, ()) + tuple(perms)))
    return merged


def refresh_statistics() -> None:
    """ANALYZE, so the planner knows the scope indexes are selective (on SQLite the
    accountant's list went from ~10 ms to <1 ms of SQL with statistics; PostgreSQL's
    autovacuum does the same on its own after large loads)."""
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
