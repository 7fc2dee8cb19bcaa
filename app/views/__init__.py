"""Screens, one module per menu area. ``register`` builds the Chinese menu, in the
order staff meet it: 客户管理, 待办事项, 报税管理, 财务管理, 系统管理."""
from flask_babel import lazy_gettext as _l


def register(appbuilder) -> None:
    from . import finance, invoices, ledger, obligations, sales, service, work
    from .admin import (DICT_VIEWS, AuditLogView, ClientGroupView, CompanySettingsView,
                        HiddenFieldView)
    from .clients import ClientBasicView, ClientModelView

    appbuilder.add_view(ClientModelView, "ClientList", label=_l("Client list"),
                        icon="fa-building", category="Clients", category_label=_l("Clients"),
                        category_icon="fa-briefcase")
    appbuilder.add_view(ClientBasicView, "ClientBasic", label=_l("Basic information"),
                        icon="fa-id-card", category="Clients")
    work.register(appbuilder)
    obligations.register(appbuilder)
    finance.register(appbuilder)
    ledger.register(appbuilder)
    invoices.register(appbuilder)
    sales.register(appbuilder)
    service.register(appbuilder)

    # 系统管理: created here with its label, then each area adds its own entries
    for view, label in DICT_VIEWS:
        appbuilder.add_view(view, view.__name__, label=_l(label), icon="fa-book",
                            category="Administration", category_label=_l("Administration"),
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
    obligations.register_admin(appbuilder)
    finance.register_admin(appbuilder)
    sales.register_admin(appbuilder)
    service.register_admin(appbuilder)

    from flask import current_app

    from . import notices, portal, portal_logins

    current_app.register_blueprint(portal.bp)  # 客户门户 (/portal/): not FAB screens
    portal_logins.register(appbuilder)
    notices.register(appbuilder)

    # FAB adds its own 权限管理 (Security) menu before any app view; staff use the
    # business menus all day, so it goes last, beside 系统管理.
    menu = appbuilder.menu.menu
    menu.sort(key=lambda item: item.name == "Security")
