"""How roles and permissions are named on the screens. Role names are FAB's stable
keys; the Chinese label is a translation. What each role may do is the one grants
table, ``app.security.grants``."""
from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "Admin": _l("Administrator"),
    "Manager": _l("Manager"),
    "Accountant": _l("Accountant"),
    "FieldAgent": _l("Field agent"),
    "Finance": _l("Finance"),
    "Sales": _l("Sales"),
    "ClientUser": _l("Client user"),
    "Public": _l("Public"),
}

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
    "userinfoedit": _l("edit own profile"),
    "unlock": _l("unlock accounts"), "can_chart": _l("chart"), "copyrole": _l("copy role"),
    "can_read": _l("read"), "can_write": _l("write"),
    "can_complete": _l("complete"), "can_skip": _l("skip"), "can_undo": _l("undo"),
    "can_renew": _l("renew"), "can_approve": _l("approve"), "can_unlock": _l("unlock"),
    "can_see_client_todos": _l("see the todos of visible clients"),
    "can_run_now": _l("run now"), "can_dun": _l("dunning notice"), "can_import": _l("import"),
    "can_issue": _l("issue invoice"), "can_void": _l("void invoice"),
    "can_monthly": _l("monthly statistics"), "can_yearly": _l("yearly statistics"),
    "can_board": _l("filing progress"), "can_reveal": _l("show password"), "can_year_view": _l("view"),
    "can_index": _l("open"),
    "can_claim": _l("claim from the pool"), "can_reassign": _l("reassign leads"),
    "can_comment": _l("comment on follow-ups"), "can_submit": _l("submit for approval"),
    "can_report": _l("sales reports"), "can_create": _l("create portal logins"),
    "can_dispatch": _l("dispatch requests"), "can_accept": _l("accept and finish requests"),
    "can_note": _l("add progress notes"), "can_handle": _l("handle complaints"),
    "can_write_off": _l("write off bad debt"), "can_refund": _l("refund"),
    "can_match": _l("match by hand"),
}
#: view or menu name -> label, filled from the registered views and menu at start-up
VIEW_LABELS: dict = {
    "MenuApi": _l("Menu API"), "SecurityApi": _l("Login API"), "OpenApi": _l("API description"),
    "SwaggerView": _l("API documentation"), "StatsView": _l("Statistics"),
    "MyDayView": _l("My day"), "ManagementReportView": _l("Management reports"),
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
