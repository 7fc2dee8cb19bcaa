"""通知: the staff's bell menu and notice list (the portal has its own pages). A
notice is opened only by its reader; its link goes only to a path of this site."""
from __future__ import annotations

from flask import abort, g, redirect, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l

from ..services import notices


def safe_target(url: str | None, fallback: str) -> str:
    """A notice's link, when it is a path on this site (never another host)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return fallback


class NoticeView(BaseView):
    route_base = "/notices"
    default_view = "index"
    class_permission_name = "NoticeView"
    method_permission_name = {"index": "index", "open": "index", "read_all": "index"}
    list_title = _l("Notices")

    @expose("/")
    @has_access
    def index(self):
        rows = [(n, notices.text_of(n)) for n in notices.latest(g.user, 100)]
        return self.render_template("service/notices.html", rows=rows,
                                    title=str(self.list_title))

    @expose("/open/<int:pk>")
    @has_access
    def open(self, pk):
        notice = notices.open_notice(g.user, pk)
        if notice is None:
            abort(404)
        return redirect(safe_target(notice.url, url_for(".index")))

    @expose("/read-all", methods=["POST"])
    @has_access
    def read_all(self):
        notices.mark_all_read(g.user)
        return redirect(url_for(".index"))


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(NoticeView())


def bell():
    """(unread count, [(notice, text)]) of the signed-in user, for the navbar."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return 0, []
    unread, latest = notices.bell(current_user)
    return unread, [(n, notices.text_of(n)) for n in latest]
