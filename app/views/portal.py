"""客户门户 (/portal/): a client user's own pages, phone-first, in Chinese.

A plain blueprint, not FAB screens: a client user holds no FAB permission and sees
no staff menu. Every page loads the client named in its URL through the one scope
(``services.portal.load_client``): another client's id answers 404.
``app.security.portal`` keeps client users inside these pages, and staff out of
them (a staff member has no portal membership: the pages answer 404 to him).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import clock
from ..domain.choices import BILLING_CYCLE, INVOICE_STATUS
from ..services import portal as portal_service

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
def _client_users_only():
    from flask import current_app

    from ..security.scope import is_client_user

    if not current_user.is_authenticated:
        return redirect(current_app.appbuilder.get_url_for_login)
    g.user = current_user
    if not is_client_user(current_user):
        abort(404)  # staff have their own screens; the portal has nothing for them


def _client_or_404(client_id):
    client = portal_service.load_client(current_user, client_id)
    if client is None:
        abort(404)
    return client


def _render(template, **context):
    clients = portal_service.my_clients(current_user)
    return render_template(template, my_clients=clients, **context)


@bp.route("/")
def index():
    """One company: its page. Several (a boss): the picker."""
    clients = portal_service.my_clients(current_user)
    if len(clients) == 1:
        return redirect(url_for(".company", client_id=clients[0].id))
    return render_template("portal/picker.html", my_clients=clients)


@bp.route("/<int:client_id>/")
def company(client_id):
    client = _client_or_404(client_id)
    data = portal_service.overview(client, clock.today())
    return _render("portal/company.html", client=client, data=data, today=clock.today(),
                   cycles=BILLING_CYCLE, invoice_status=INVOICE_STATUS)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Replace one's password (the first login after staff made the account must)."""
    forced = portal_service.must_change_password(current_user)
    if request.method == "POST":
        try:
            portal_service.change_password(current_user, request.form.get("old", ""),
                                           request.form.get("new", ""),
                                           request.form.get("confirm", ""))
        except portal_service.PortalError as exc:
            flash(gettext(exc.message, **exc.params), "danger")
            return _render("portal/password.html", forced=forced), 422
        flash(gettext("Your password has been changed."), "success")
        return redirect(url_for(".index"))
    return _render("portal/password.html", forced=forced)
