"""FAB's own screens for users, roles and staff groups (系统管理 › 权限管理), with the
agency's fields and the safety every screen has: actions through
:class:`SafeActionsMixin`, forms through :class:`RuleFormsMixin` (a bad phone is
refused beside the field; an unticked 仅限分配的客户 saves)."""
from __future__ import annotations

from flask import flash, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.security.views import RoleModelView, UserDBModelView, UserGroupModelView
from flask_appbuilder.widgets import ListWidget, ShowWidget
from flask_babel import gettext, lazy_gettext as _l

from ..security.roles import role_label
from .mixins import RuleFormsMixin, SafeActionsMixin


class StaffUserView(SafeActionsMixin, RuleFormsMixin, UserDBModelView):
    """User admin with the agency's fields: phone, 上级, 仅限分配的客户."""

    list_columns = ["first_name", "last_name", "username", "email", "phone", "superior",
                    "active", "locked_at", "roles"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "first_name", "last_name", "email", "phone",
                                      "superior", "assigned_only", "active", "roles",
                                      "groups", "login_count"]}),
        (_l("Audit"), {"fields": ["created_on", "changed_on", "last_login",
                                  "fail_login_count"], "expanded": False}),
    ]
    add_columns = ["first_name", "last_name", "username", "email", "phone", "superior",
                   "assigned_only", "active", "roles", "groups", "password", "conf_password"]
    edit_columns = ["first_name", "last_name", "username", "email", "phone", "superior",
                    "assigned_only", "active", "roles", "groups"]
    search_columns = ["first_name", "last_name", "username", "email", "phone", "active"]
    label_columns = {
        **UserDBModelView.label_columns,
        "phone": _l("Phone"),
        "superior": _l("Superior"),
        "assigned_only": _l("Assigned clients only"),
        "groups": _l("Groups"),
        "locked_at": _l("Locked since"),
    }
    @action("unlock", _l("Unlock"), _l("Unlock the selected accounts?"), "fa-unlock",
            multiple=True, single=True)
    def unlock(self, items):
        items = items if isinstance(items, list) else [items]
        for user in items:
            self.appbuilder.sm.unlock_user(user)
        flash(gettext("%(n)d account(s) unlocked.", n=len(items)), "success")
        return redirect(self.get_redirect())

    description_columns = {
        "superior": _l("Sees the clients of his subordinates, transitively."),
        "assigned_only": _l("Only the clients assigned to this user are visible: "
                            "no group or subordinate visibility."),
    }


class StaffRoleView(SafeActionsMixin, RoleModelView):
    """Roles with their Chinese names and readable permissions."""

    # FAB's role widgets print the raw name and skip formatters; the standard ones
    # (this app's overrides of them) show the translated label.
    list_widget = ListWidget
    show_widget = ShowWidget
    label_columns = {**RoleModelView.label_columns, "name": _l("Name"),
                     "permissions": _l("Permissions"), "user": _l("Users"),
                     "groups": _l("Groups")}
    formatters_columns = {"name": lambda name: str(role_label(name))}
    search_columns = ["name"]


class StaffGroupView(SafeActionsMixin, RuleFormsMixin, UserGroupModelView):
    """用户组: groups of staff; client groups name the staff groups that manage them."""

    label_columns = {"name": _l("Name"), "label": _l("Label"),
                     "description": _l("Description"), "users": _l("Users"),
                     "roles": _l("Roles")}
    search_columns = ["name", "label"]




def install(security_manager_class) -> None:
    """Give the security manager these screens (before FAB builds its views)."""
    security_manager_class.userdbmodelview = StaffUserView
    security_manager_class.rolemodelview = StaffRoleView
    security_manager_class.groupmodelview = StaffGroupView
