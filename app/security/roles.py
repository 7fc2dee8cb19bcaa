"""The six roles shipped by default and what each may do.

Role names are FAB's stable keys; the Chinese label is a translation. ``flask init``
adds what is listed here to each role and never removes what an Admin granted since.
"""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "Admin": _l("Administrator"),
    "Manager": _l("Manager"),
    "Accountant": _l("Accountant"),
    "FieldAgent": _l("Field agent"),
    "Finance": _l("Finance"),
    "Sales": _l("Sales"),
    "Public": _l("Public"),
}

READ = ("can_list", "can_show")
WRITE = READ + ("can_add", "can_edit")
FULL = WRITE + ("can_delete",)
API_READ = ("can_get", "can_info")
API_WRITE = API_READ + ("can_put",)
API_FULL = API_WRITE + ("can_post", "can_delete")
CLIENT_MENUS = {"Clients": ("menu_access",), "ClientList": ("menu_access",),
                "ClientBasic": ("menu_access",)}
SEE_ALL = {"Clients": ("menu_access", "can_see_all")}

# view or menu name -> permissions, per role. Admin gets everything (FAB adds every
# new permission to the admin role itself).
ROLE_PERMISSIONS = {
    "Manager": {**CLIENT_MENUS, **SEE_ALL,
                "ClientModelView": FULL + ("can_export", "can_assign"),
                "ClientBasicView": READ, "ClientRestApi": API_FULL,
                # 待办事项, 合同管理 (审核 is the manager's), 上门做账, 提供地址
                "Todos": ("menu_access", "can_see_client_todos"),
                "TodoModelView": FULL + ("can_export", "can_complete"),
                "Contracts": ("menu_access",),
                "ContractModelView": FULL + ("can_export", "can_renew", "can_approve"),
                "OnsiteBookkeeping": ("menu_access",),
                "OnsiteBookkeepingView": READ + ("can_export",),
                "AddressServices": ("menu_access",),
                "AddressServiceModelView": FULL + ("can_export", "can_renew")},
    "Accountant": {**CLIENT_MENUS, "ClientModelView": WRITE + ("can_export",),
                   "ClientBasicView": READ,
                   "ClientRestApi": API_WRITE,
                   "Todos": ("menu_access", "can_see_client_todos"),
                   "TodoModelView": WRITE + ("can_complete",),
                   "Contracts": ("menu_access",),
                   "ContractModelView": READ + ("can_add", "can_renew"),
                   "OnsiteBookkeeping": ("menu_access",), "OnsiteBookkeepingView": READ,
                   "AddressServices": ("menu_access",),
                   "AddressServiceModelView": READ + ("can_renew",)},
    "FieldAgent": {**CLIENT_MENUS, "ClientModelView": READ, "ClientBasicView": READ,
                   "ClientRestApi": API_READ,
                   # no can_see_client_todos: 外勤只看分配给自己的待办
                   "Todos": ("menu_access",), "TodoModelView": WRITE + ("can_complete",),
                   "OnsiteBookkeeping": ("menu_access",), "OnsiteBookkeepingView": READ,
                   "AddressServices": ("menu_access",), "AddressServiceModelView": READ},
    "Finance": {**CLIENT_MENUS, **SEE_ALL, "ClientModelView": READ + ("can_export",),
                "ClientBasicView": READ, "ClientRestApi": API_READ,
                "Contracts": ("menu_access",), "ContractModelView": READ,
                "AddressServices": ("menu_access",), "AddressServiceModelView": READ},
    "Sales": {**CLIENT_MENUS, "ClientModelView": READ + ("can_add",),
              "ClientBasicView": READ, "ClientRestApi": API_READ,
              "Todos": ("menu_access", "can_see_client_todos"),
              "TodoModelView": WRITE + ("can_complete",),
              "Contracts": ("menu_access",), "ContractModelView": READ + ("can_add",)},
}
# 报税管理: the combined list (per-type lists are filters of it), the history.
OBLIGATION_MENUS = {"Obligations": ("menu_access",), "AllObligations": ("menu_access",),
                    "ObligationHistory": ("menu_access",)}
OBLIGATION_WORK = {**OBLIGATION_MENUS,
                   "ObligationModelView": READ + ("can_edit", "can_complete", "can_skip",
                                                  "can_export"),
                   "ObligationRecordView": ("can_list", "can_show", "can_export")}
OBLIGATION_READ = {**OBLIGATION_MENUS,
                   "ObligationModelView": READ + ("can_export",),
                   "ObligationRecordView": ("can_list", "can_show", "can_export")}
# 日记账 over REST: Finance and Manager read and write (approval stays on the screen)
for _role in ("Finance", "Manager"):
    ROLE_PERMISSIONS[_role]["JournalRestApi"] = API_FULL
ROLE_PERMISSIONS["Accountant"]["JournalRestApi"] = API_READ + ("can_post",)

for _role, _grants in (("Manager", {**OBLIGATION_WORK, "ObligationModelView":
                                    OBLIGATION_WORK["ObligationModelView"] + ("can_undo",)}),
                       ("Accountant", OBLIGATION_WORK), ("FieldAgent", OBLIGATION_WORK),
                       ("Finance", OBLIGATION_READ)):
    ROLE_PERMISSIONS[_role].update(_grants)

# Every staff role may see his profile and change his own password.
SELF_SERVICE = {
    "StaffUserView": ("can_userinfo", "resetmypassword"),
    "UserInfoEditView": ("can_this_form_get", "can_this_form_post"),
    "ResetMyPasswordView": ("can_this_form_get", "can_this_form_post"),
}
DEFAULT_ROLES = ["Admin", "Manager", "Accountant", "FieldAgent", "Finance", "Sales"]


def role_label(name: str):
    return ROLE_LABELS.get(name, name)


# What a permission lets one do, for the role screens (FAB shows "can list on XView").
PERMISSION_LABELS = {
    "can_list": _l("list"), "can_show": _l("view details"), "can_add": _l("add"),
    "can_edit": _l("edit"), "can_delete": _l("delete"), "can_export": _l("export"),
    "can_assign": _l("assign accountants"), "can_see_all": _l("see all clients"),
    "menu_access": _l("menu"), "can_get": _l("API read"), "can_put": _l("API update"),
    "can_post": _l("API create"), "can_info": _l("API metadata"),
    "can_download": _l("download"), "can_userinfo": _l("own profile"),
    "resetmypassword": _l("change own password"), "resetpasswords": _l("reset passwords"),
    "can_this_form_get": _l("open form"), "can_this_form_post": _l("submit form"),
    "userinfoedit": _l("edit own profile"), "can_unlock": _l("unlock accounts"),
    "unlock": _l("unlock accounts"), "can_chart": _l("chart"), "copyrole": _l("copy role"),
    "can_read": _l("read"), "can_write": _l("write"),
    "can_complete": _l("complete"), "can_skip": _l("skip"), "can_undo": _l("undo"),
    "can_renew": _l("renew"), "can_approve": _l("approve"), "can_unlock": _l("unlock"),
    "can_see_client_todos": _l("see the todos of visible clients"),
    "can_run_now": _l("run now"), "can_dun": _l("dunning notice"), "can_import": _l("import"),
    "can_issue": _l("issue invoice"), "can_void": _l("void invoice"),
    "can_monthly": _l("monthly statistics"), "can_yearly": _l("yearly statistics"),
}
#: view or menu name -> label, filled from the registered views and menu at start-up
VIEW_LABELS: dict = {
    "MenuApi": _l("Menu API"), "SecurityApi": _l("Login API"), "OpenApi": _l("API description"),
    "SwaggerView": _l("API documentation"), "StatsView": _l("Statistics"),
}


def register_view_labels(appbuilder) -> None:
    """Remember the Chinese-able label of every view and menu entry by its name."""
    for view in appbuilder.baseviews:
        title = getattr(view, "list_title", None) or getattr(view, "form_title", None)
        name = getattr(view, "class_permission_name", None) or view.__class__.__name__
        if title and name not in VIEW_LABELS:
            VIEW_LABELS[name] = title
    for category in appbuilder.menu.get_list():
        VIEW_LABELS.setdefault(category.name, category.label)
        for item in category.childs:
            if item.name != "-":
                VIEW_LABELS.setdefault(item.name, item.label)


def permission_view_label(permission: str, view: str) -> str:
    from flask_babel import gettext

    perm = PERMISSION_LABELS.get(permission, permission)
    target = VIEW_LABELS.get(view, view)
    return gettext("%(permission)s: %(view)s", permission=str(perm), view=str(target))
