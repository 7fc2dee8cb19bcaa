"""Screens, one module per menu area. ``register`` builds the Chinese menu."""
from flask_babel import lazy_gettext as _l


def register(appbuilder) -> None:
    from .admin import (DICT_VIEWS, AuditLogView, ClientGroupView, CompanySettingsView,
                        HiddenFieldView)
    from .clients import ClientBasicView, ClientModelView

    clients = _l("Clients")
    appbuilder.add_view(ClientModelView, "ClientList", label=_l("Client list"),
                        icon="fa-building", category="Clients", category_label=clients,
                        category_icon="fa-briefcase")
    appbuilder.add_view(ClientBasicView, "ClientBasic", label=_l("Basic information"),
                        icon="fa-id-card", category="Clients")

    from .obligations import register as register_obligations

    register_obligations(appbuilder)

    admin = _l("Administration")
    for view, label in DICT_VIEWS:
        appbuilder.add_view(view, view.__name__, label=_l(label), icon="fa-book",
                            category="Administration", category_label=admin,
                            category_icon="fa-cogs")
    appbuilder.add_view(ClientGroupView, "ClientGroups", label=_l("Client groups"),
                        icon="fa-object-group", category="Administration")
    appbuilder.add_view(CompanySettingsView, "CompanySettings",
                        label=_l("Company settings"), icon="fa-home",
                        category="Administration")
    appbuilder.add_view(HiddenFieldView, "HiddenFields", label=_l("Field visibility"),
                        icon="fa-eye-slash", category="Administration")
    appbuilder.add_view(AuditLogView, "AuditLog", label=_l("Audit log"),
                        icon="fa-history", category="Administration")
    from .obligations import register_admin as register_obligation_admin

    register_obligation_admin(appbuilder)
