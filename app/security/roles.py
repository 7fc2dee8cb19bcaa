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
                "ClientBasicView": READ, "ClientRestApi": API_FULL},
    "Accountant": {**CLIENT_MENUS, "ClientModelView": WRITE + ("can_export",),
                   "ClientBasicView": READ,
                   "ClientRestApi": API_WRITE},
    "FieldAgent": {**CLIENT_MENUS, "ClientModelView": READ, "ClientBasicView": READ,
                   "ClientRestApi": API_READ},
    "Finance": {**CLIENT_MENUS, **SEE_ALL, "ClientModelView": READ + ("can_export",),
                "ClientBasicView": READ, "ClientRestApi": API_READ},
    "Sales": {**CLIENT_MENUS, "ClientModelView": READ + ("can_add",),
              "ClientBasicView": READ, "ClientRestApi": API_READ},
}
# Every staff role may see his profile and change his own password.
SELF_SERVICE = {
    "StaffUserView": ("can_userinfo", "resetmypassword"),
    "UserInfoEditView": ("can_this_form_get", "can_this_form_post"),
    "ResetMyPasswordView": ("can_this_form_get", "can_this_form_post"),
}
DEFAULT_ROLES = ["Admin", "Manager", "Accountant", "FieldAgent", "Finance", "Sales"]


def role_label(name: str):
    return ROLE_LABELS.get(name, name)
