"""The FAB SecurityManager subclass: Staff as the user model, Chinese role labels,
and permission checks answered from one set.

FAB checks permissions with one query per check (a list page made 18-25 of them,
one per menu item: FAB_NOTES). Here the whole set of (permission, view) pairs of the
user's roles is read once and every check reads it; each worker keeps the set per
set of roles until the config token changes (``app.data.config_cache``: a role's
changed permissions reach every worker's next request).
"""
from __future__ import annotations

import functools

from flask import current_app, g, has_request_context
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (
    Group,
    Permission,
    PermissionView,
    Role,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..data import config_cache
from ..data.config_cache import request_store
from ..models import Staff
from . import sessions
from .roles import permission_view_label, role_label
from ..clock import local_now


class AgencySecurityManager(SecurityManager):
    # The user, role and group screens (app.views.security) are set on this class by
    # the app factory before FAB builds them: the security layer imports no screen.
    user_model = Staff
    # FAB's user statistics chart loads Google Charts (unreachable on an intranet).
    userstatschartview = None

    # ---- logins: audited, and locked after repeated failures ---------------
    def auth_user_db(self, username, password):
        user = super().auth_user_db(username, password)
        from ..audit import record

        if user is None:
            record(self.session.connection(), "login_failed", "ab_user",
                   changes={"username": str(username or "")[:128]})
        else:
            record(self.session.connection(), "login", "ab_user", user.id,
                   user_id=user.id, username=user.username)
        self.session.commit()
        return user

    def update_user_auth_stat(self, user, success=True):
        super().update_user_auth_stat(user, success)
        threshold = current_app.config.get("AUTH_LOCKOUT_THRESHOLD", 5)
        if not success and threshold and (user.fail_login_count or 0) >= threshold \
                and user.locked_at is None:
            # The counter lives in the database, so the lock holds across workers;
            # the account's open sessions and tokens end with it.
            user.locked_at = local_now()
            self.update_user(user)
            sessions.revoke(self.session, user.id)
            self.session.commit()

    # ---- sessions end at logout and at a password change or reset -----------
    def on_user_logout(self, user) -> None:
        from ..audit import record

        sessions.revoke(self.session, user.id)
        record(self.session.connection(), "logout", "ab_user", user.id,
               user_id=user.id, username=user.username)
        self.session.commit()

    def reset_password(self, userid, password):
        """A changed or reset password ends every open session and token of the
        user; the user who changed his own stays logged in on this browser."""
        super().reset_password(userid, password)
        version = sessions.revoke(self.session, userid)
        self.session.commit()
        me = getattr(g, "user", None) if has_request_context() else None
        if getattr(me, "id", None) == int(userid):
            sessions.keep_this_session(version)

    def unlock_user(self, user) -> None:
        """Admin clears a lockout (the audit log records locked_at → empty)."""
        user.locked_at = None
        user.fail_login_count = 0
        self.update_user(user)

    # ---- the request's user, with his roles, in one query -------------------
    def _load(self, pk):
        # FAB's session.get is followed by two lazy loads (roles, groups) as soon
        # as a permission or the field visibility is checked; loading them with the
        # user makes it one statement.
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        # the config token rides along (app.data.config_cache): what this worker
        # kept of permissions, hidden fields, settings and the scope is checked
        # against it without a statement of its own
        row = self.session.execute(_user_statement(), {"pk": pk}).unique().one_or_none()
        if row is None:
            return None
        user, token = row
        config_cache.note_token(token)
        if user and user.is_active:
            return user
        return None

    def load_user(self, pk):
        """Flask-Login's loader (the browser session): a session issued before the
        user's last logout, password change or lockout is no login."""
        user = self._load(pk)
        if user is not None and sessions.browser_session_valid(user):
            return user
        return None

    def load_user_jwt(self, _jwt_header, jwt_data):
        """The REST API's loader: a token issued before the user's last logout,
        password change or lockout is no login."""
        from .scope import is_client_user

        user = self._load(jwt_data.get("sub"))
        if user is not None and is_client_user(user):
            return None  # 客户门户: a client's login has no API
        if user is not None and sessions.token_valid(user, jwt_data):
            g.user = user
            return user
        return None

    # ---- permissions, one query per request --------------------------------
    def _permission_set(self, user) -> frozenset[tuple[str, str]]:
        cache_key = "_agencydesk_perms"
        if has_request_context():
            cached = getattr(g, cache_key, None)
            if cached is not None and cached[0] == getattr(user, "id", None):
                return cached[1]
        if not getattr(user, "is_authenticated", False):
            # the visitor's Public role: found by name, so kept under its own key
            perms = config_cache.cached("permissions", lambda: self._role_permissions(
                frozenset(r.id for r in self.get_user_roles(user))), "public",
                session=self.session)
        else:
            role_ids = frozenset(r.id for r in self.get_user_roles(user))
            perms = config_cache.cached("permissions", lambda: self._role_permissions(role_ids),
                                        role_ids, session=self.session)
        if has_request_context():
            setattr(g, cache_key, (getattr(user, "id", None), perms))
        return perms

    def _role_permissions(self, role_ids: frozenset) -> frozenset[tuple[str, str]]:
        """The (permission, view) pairs granted to any of ``role_ids``."""
        if not role_ids:
            return frozenset()
        rows = self.session.execute(
            select(Permission.name, ViewMenu.name)
            .join(PermissionView, PermissionView.permission_id == Permission.id)
            .join(ViewMenu, PermissionView.view_menu_id == ViewMenu.id)
            .join(assoc_permissionview_role,
                  assoc_permissionview_role.c.permission_view_id == PermissionView.id)
            .where(assoc_permissionview_role.c.role_id.in_(role_ids))).all()
        return frozenset((p, v) for p, v in rows)

    def has_access(self, permission_name: str, view_name: str) -> bool:
        # FAB answers each check through a handful of LocalProxy lookups (g, the
        # login manager's current_user, the API-key flag) before the set lookup; a
        # page asks 40-60 times (menu, buttons, actions). Answers are kept for the
        # request, per user object (a login inside the request starts afresh).
        memo = request_store().setdefault("_agencydesk_access", {})
        key = (permission_name, view_name, id(g.get("user")))
        try:
            return memo[key]
        except KeyError:
            answer = memo[key] = super().has_access(permission_name, view_name)
            return answer

    def access_signature(self) -> frozenset:
        """The current visitor's (permission, view) pairs: what every ``has_access``
        of this request answers from (the menu's cache key)."""
        from flask_login import current_user

        user = g.get("user")
        if current_user.is_authenticated and user is not None and user.is_active:
            return frozenset(self._permission_set(user))
        return frozenset(self._permission_set(_AnonymousProxy(self)))

    def _has_view_access(self, user, permission_name: str, view_name: str) -> bool:
        return (permission_name, view_name) in self._permission_set(user)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        if user is None:
            user = _AnonymousProxy(self)
        perms = self._permission_set(user)
        return {v for p, v in perms if p == permission_name and v in view_menus_name}

    def is_item_public(self, permission_name, view_name):
        return self._has_view_access(_AnonymousProxy(self), permission_name, view_name)

    def user_has(self, user, permission_name: str, view_name: str) -> bool:
        """Permission check for a given user (used by the visibility scope)."""
        return self._has_view_access(user, permission_name, view_name)


@functools.cache
def _user_statement():
    """The request's user with his roles and groups' roles, and the config token:
    built once per process (a statement is immutable; ``pk`` is bound per call)."""
    return select(Staff, config_cache.token_column()).where(
        Staff.id == bindparam("pk")).options(
            joinedload(Staff.roles), joinedload(Staff.groups).joinedload(Group.roles))


class _AnonymousProxy:
    """Stands for the not-logged-in visitor: FAB gives him the Public role."""

    id = None
    is_authenticated = False

    def __init__(self, sm):
        self._sm = sm


def _patch_role_repr() -> None:
    # FAB renders a role by its name ("Accountant") in user lists and dropdowns, a
    # permission as "can list on ClientModelView", and a user of its group forms
    # as "First Last". Names are stable keys, so the labels shown are translated.
    from flask_appbuilder.security.sqla.models import User

    from ..models.users import display_name

    Role.__repr__ = lambda self: str(role_label(self.name))
    Role.__str__ = Role.__repr__
    PermissionView.__repr__ = lambda self: permission_view_label(
        self.permission.name if self.permission else "", self.view_menu.name if self.view_menu else "")
    PermissionView.__str__ = PermissionView.__repr__
    User.get_full_name = lambda self: display_name(self.first_name, self.last_name)
    User.__repr__ = lambda self: self.get_full_name()


_patch_role_repr()
