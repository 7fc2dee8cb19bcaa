"""THE visibility rule, in two forms side by side: a SQL condition for queries
(:func:`condition`) and a check for one loaded row (:func:`allows`). Every list,
show, edit, delete, action, export, dropdown, count and API endpoint reaches rows
through :func:`condition` (``ScopedInterface`` applies it); writes are checked with
:func:`check_write`. tests/security/test_scope_rules.py keeps the two forms equal.

The rule (SPEC; issue 3):
- a user whose roles hold ``can_see_all`` on ``Clients`` sees every client;
- otherwise he sees the clients where he, or anyone below him in the 上级 chain
  (transitively), is 记账会计 or 外勤会计, and the clients of the client groups
  managed by the staff groups (用户组) he belongs to;
- a user with 仅限分配的客户 (``assigned_only``) sees only clients assigned to
  himself: no subordinates, no groups.
- 销售 (issue 10): the clients a salesperson won (``sales_id``) are visible to him
  and up his 上级 chain, like the clients he keeps the books of; a lead is visible
  to its owner (销售负责人) and up his chain, and leads in the 公共池 to everyone who
  reaches the pool's screens; a lead's follow-ups and sales contracts (and their
  items) follow the lead; a contact person follows his lead or his client.
Records that belong to a client (``client_id``) inherit the client's visibility.
Owned records (todos: ``__scope_owner_columns__``) are also visible to their owner
(assignee, creator); a todo of a visible client is visible only with
``can_see_client_todos`` on ``Todos`` (the role switch "外勤只看分配给自己的待办":
FieldAgent does not hold it by default).
"""
from __future__ import annotations

from flask_appbuilder.security.sqla.models import assoc_user_group
from sqlalchemy import and_, false, literal, or_, select, union
from sqlalchemy.sql.operators import or_ as or_operator

from ..data import config_cache
from ..domain.choices import N_
from ..models import (Client, Contact, FollowUp, Lead, PortalMembership, SalesContract,
                      SalesContractLine, Staff, client_group_manager)
from .grants import CLIENT_ROLE

SEE_ALL_PERMISSION = ("can_see_all", "Clients")
#: what a refused write is told (an English msgid, translated at the edge)
OUT_OF_SCOPE = N_("Not saved: the client would be outside the clients you may see (you can "
                "only assign or choose clients within your scope).")
CLIENT_TODOS_PERMISSION = ("can_see_client_todos", "Todos")


class ScopeError(ValueError):
    """A write would touch or create a row outside the user's scope."""


def sees_all(user, has_permission) -> bool:
    """Whether ``user`` sees every client. ``has_permission(perm, view)`` is the
    security manager's check for that user, passed in to keep this module free of
    Flask. ``None`` is the system (CLI, jobs, migrations)."""
    if user is None:
        return True
    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        return False
    return has_permission(*SEE_ALL_PERMISSION)


def is_client_user(user) -> bool:
    """Whether ``user`` is a client's login (客户门户): he holds the ClientUser role.
    Whatever else he holds, he is then scoped as a client user."""
    return any(getattr(role, "name", None) == CLIENT_ROLE
               for role in getattr(user, "roles", None) or ())


def portal_client_ids(user):
    """SELECT of the clients a client user belongs to (his portal memberships)."""
    return select(PortalMembership.client_id).where(PortalMembership.user_id == user.id)


#: what a client user never sees, even of his own company: the sales side's papers
_CLIENT_USER_NEVER = (Lead, FollowUp, SalesContract, SalesContractLine, Contact)


def _client_user_condition(user, model):
    """客户门户: a client user sees his own clients and the rows that belong to them
    (``client_id``), nothing that belongs to no client, no sales papers."""
    if model is Client:
        return Client.id.in_(portal_client_ids(user))
    if model in _CLIENT_USER_NEVER or not hasattr(model, "client_id"):
        return false()
    return model.client_id.in_(portal_client_ids(user))


def _client_user_allows(user, obj, session) -> bool:
    """The object form of :func:`_client_user_condition`."""
    if isinstance(obj, Client):
        client_id = obj.id
    elif isinstance(obj, _CLIENT_USER_NEVER) or getattr(obj, "client_id", None) is None:
        return False
    else:
        client_id = obj.client_id
    return session.execute(portal_client_ids(user).where(
        PortalMembership.client_id == client_id)).first() is not None


def team_ids(user):
    """SELECT of the user's id and all his subordinates' ids (recursive on 上级)."""
    users = Staff.__table__
    team = select(users.c.id).where(users.c.id == user.id).cte("team", recursive=True)
    team = team.union(select(users.c.id).where(users.c.superior_id == team.c.id))
    return select(team.c.id)


def managed_group_ids(user):
    """SELECT of the client groups managed by the staff groups the user is in."""
    return (select(client_group_manager.c.client_group_id)
            .join(assoc_user_group,
                  assoc_user_group.c.group_id == client_group_manager.c.staff_group_id)
            .where(assoc_user_group.c.user_id == user.id))


def resolve(user, session) -> tuple[frozenset, frozenset]:
    """(ids of the user and his subordinates, ids of the client groups he manages),
    read with two small queries and kept by the worker until the config token changes
    (a change of 上级, a user added or removed, a group's members or managers: the
    triggers of migration c7f2a9e4d1b3), and once per request outside that.

    The list queries then carry literal ``IN (…)`` lists: with the recursive CTE
    inline, PostgreSQL's planner expected ~85,000 visible clients and counted the
    accountant's list with a full scan (30–50 ms); with literal ids the same count
    uses the bookkeeper / field-agent / group indexes (~3 ms).
    """
    from flask import g, has_request_context

    key = ("_scope_sets", user.id, bool(getattr(user, "assigned_only", False)))
    if has_request_context():
        cached = g.get("_scope_cache", {}).get(key)
        if cached is not None:
            return cached
    if getattr(user, "assigned_only", False):
        sets = (frozenset([user.id]), frozenset())
    else:
        # kept per config token: 上级 and group changes give a new token
        sets = config_cache.cached("scope", lambda: (
            frozenset(session.execute(team_ids(user)).scalars()),
            frozenset(session.execute(managed_group_ids(user)).scalars())),
            user.id, session=session)
    if has_request_context():
        g.setdefault("_scope_cache", {})[key] = sets
    return sets


def client_condition(user, session=None):
    """SQL condition on ``Client`` for a user who does not see all."""
    uid = getattr(user, "id", None)
    if uid is None:
        return false()
    if getattr(user, "assigned_only", False):
        return or_(Client.bookkeeper_id == uid, Client.field_agent_id == uid,
                   Client.sales_id == uid)
    if session is not None:
        team, groups = resolve(user, session)
        # built once per request from the sets (each IN list is ~0.1 ms of
        # expression building; a client page's panels ask for it a dozen times)
        from flask import g, has_request_context

        key = ("_client_condition", uid, team, groups)
        cache = g.setdefault("_scope_cache", {}) if has_request_context() else {}
        if key not in cache:
            parts = [Client.bookkeeper_id.in_(team), Client.field_agent_id.in_(team),
                     Client.sales_id.in_(team)]
            if groups:
                parts.append(Client.client_group_id.in_(groups))
            cache[key] = or_(*parts)
        return cache[key]
    team = team_ids(user)
    return or_(Client.bookkeeper_id.in_(team), Client.field_agent_id.in_(team),
               Client.sales_id.in_(team),
               Client.client_group_id.in_(managed_group_ids(user)))


def visible_client_ids(user, session=None):
    """SELECT of the ids of the clients the user sees (:func:`client_condition`), for
    the rows that belong to a client (``client_id IN …``).

    On SQLite it is a UNION of one indexed SELECT per column (记账会计, 外勤会计,
    销售, 客户组) — the same set: SQLite plans ``a IN … OR b IN … OR c IN …`` as a
    scan of every client when one column is mostly empty (its statistics then say
    an id matches every row), 30 ms at 100,000 clients for each list, count and
    lookup of every module; the union reads the accountant's ~3,500 index entries
    (1–2 ms). PostgreSQL combines the indexes itself (BitmapOr) and keeps the OR.
    """
    cond = client_condition(user, session)
    parts = getattr(cond, "clauses", None)
    if session is None or session.get_bind().dialect.name != "sqlite" \
            or getattr(cond, "operator", None) is not or_operator or not parts:
        return select(Client.id).where(cond)
    return union(*[select(Client.id).where(part) for part in parts])


#: the stage of a lead nobody holds: every salesperson sees the pool (to claim from it)
POOL = "pool"


def lead_condition(user, session=None, pool: bool = True):
    """SQL condition on ``Lead`` for a user who does not see all: the leads he or
    anyone below him owns, and (``pool``) the 公共池."""
    uid = getattr(user, "id", None)
    if uid is None:
        return false()
    if getattr(user, "assigned_only", False):
        owned = Lead.owner_id == uid
    else:
        team = resolve(user, session)[0] if session is not None else team_ids(user)
        owned = Lead.owner_id.in_(team)
    return or_(owned, Lead.stage == POOL) if pool else owned


def _visible_leads(user, session):
    # a lead's contacts, follow-ups and contracts are his owner's (and up his chain):
    # the pool shows a lead, not its people and papers, until it is claimed
    return select(Lead.id).where(lead_condition(user, session, pool=False))


def _sales_condition(user, model, session):
    """The condition of the sales models (None: not one of them)."""
    if model is Lead:
        return lead_condition(user, session)
    if model in (FollowUp, SalesContract):
        return model.lead_id.in_(_visible_leads(user, session))
    if model is SalesContractLine:
        return model.contract_id.in_(select(SalesContract.id).where(
            SalesContract.lead_id.in_(_visible_leads(user, session))))
    if model is Contact:
        return or_(Contact.lead_id.in_(_visible_leads(user, session)),
                   Contact.client_id.in_(visible_client_ids(user, session)))
    return None


def _lead_allowed(user, lead, session, pool: bool = True) -> bool:
    if lead is None:
        return False
    if lead.stage == POOL and pool:
        return True
    uid = getattr(user, "id", None)
    if uid is None:
        return False
    if getattr(user, "assigned_only", False):
        return lead.owner_id == uid
    return lead.owner_id in resolve(user, session)[0]


def _sales_allows(user, obj, has_permission, session):
    """The object form of :func:`_sales_condition` (None: not a sales model)."""
    if isinstance(obj, Lead):
        return _lead_allowed(user, obj, session)
    if isinstance(obj, (FollowUp, SalesContract)):
        return _lead_allowed(user, session.get(Lead, obj.lead_id), session, pool=False)
    if isinstance(obj, SalesContractLine):
        contract = session.get(SalesContract, obj.contract_id)
        return contract is not None and _lead_allowed(
            user, session.get(Lead, contract.lead_id), session, pool=False)
    if isinstance(obj, Contact):
        if obj.lead_id is not None and _lead_allowed(user, session.get(Lead, obj.lead_id),
                                                     session, pool=False):
            return True
        client = session.get(Client, obj.client_id) if obj.client_id else None
        return client is not None and allows(user, client, has_permission, session)
    return None


def condition(user, model, has_permission, session=None):
    """The WHERE condition limiting ``model`` to what ``user`` may see; None = all.

    Models that are not client-owned (dictionaries, settings) are not row-scoped.
    """
    if user is not None and is_client_user(user):
        return _client_user_condition(user, model)
    if sees_all(user, has_permission):
        return None
    if model is Client:
        return client_condition(user, session)
    sales = _sales_condition(user, model, session)
    if sales is not None:
        return sales
    owners = getattr(model, "__scope_owner_columns__", ())
    if owners:
        uid = getattr(user, "id", None)
        own = or_(*[getattr(model, col) == uid for col in owners])
        if not has_permission(*CLIENT_TODOS_PERMISSION):
            return own
        visible = model.client_id.in_(visible_client_ids(user, session))
        return or_(own, and_(model.client_id.isnot(None), visible))
    if hasattr(model, "client_id"):
        return model.client_id.in_(visible_client_ids(user, session))
    return None


def allows(user, obj, has_permission, session) -> bool:
    """The object form of :func:`condition`: may ``user`` see this loaded row?

    Evaluated in Python from the row's own columns, with the user's team and groups
    loaded once; it must agree with :func:`condition` (tested against each other).
    """
    if user is not None and is_client_user(user):
        return _client_user_allows(user, obj, session)
    if sees_all(user, has_permission):
        return True
    sales = _sales_allows(user, obj, has_permission, session)
    if sales is not None:
        return sales
    owners = getattr(type(obj), "__scope_owner_columns__", ())
    if owners:
        if any(getattr(obj, col) == getattr(user, "id", None) for col in owners):
            return True
        if obj.client_id is None or not has_permission(*CLIENT_TODOS_PERMISSION):
            return False
    if isinstance(obj, Client):
        client = obj
    elif hasattr(obj, "client_id"):
        if obj.client_id is None:
            # like the SQL form (client_id IN …): a record with no client, e.g. a
            # journal entry for rent, is for those who see everything
            return False
        client = session.get(Client, obj.client_id)
        if client is None:
            return False
    else:
        return True
    uid = getattr(user, "id", None)
    if uid is None:
        return False
    if getattr(user, "assigned_only", False):
        return uid in (client.bookkeeper_id, client.field_agent_id, client.sales_id)
    team, groups = resolve(user, session)
    if client.bookkeeper_id in team or client.field_agent_id in team \
            or client.sales_id in team:
        return True
    return client.client_group_id is not None and client.client_group_id in groups


def check_write(user, obj, has_permission, session) -> None:
    """Refuse a write that leaves ``obj`` (new or changed) outside the user's scope:
    a row naming an invisible client, or a client moved away from oneself.

    Runs the SQL form against the flushed row, so it sees exactly what the
    database will hold.

    :raises ScopeError: the row would be outside the user's scope.
    """
    model = type(obj)
    cond = condition(user, model, has_permission, session)
    if cond is None:
        return
    session.flush()
    pk = obj.id
    visible = session.execute(select(literal(1)).select_from(model)
                              .where(model.id == pk, cond)).first()
    if visible is None:
        raise ScopeError(pk)
