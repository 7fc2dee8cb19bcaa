"""报税管理 → 申报进度 (``/filing-board/?month=2026-11``): the clients in the user's
scope × the tax kinds, each cell a filing's state, with one-click 完成 / 零申报 per
cell and per row — through the obligations list's own actions (the same
permission, scope and exactly-once rule: each cell posts the deadline it shows) —
counts per kind and per accountant, filters and export."""
from __future__ import annotations

import io

from flask import g, request, send_file
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from .. import audit, clock, guards
from ..data.interface import ScopedInterface
from ..domain.validation import parse_id
from ..exports import write_xlsx
from ..extensions import db
from ..models import Client, ClientGroup, Staff
from ..services import board as board_service
from ..services.calendar import Calendar


def _int_arg(name: str):
    value = request.args.get(name)
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        guards.refuse(400, "filter")
    return number


class FilingBoardView(BaseView):
    """申报进度: who still has to file what, for one month."""

    route_base = "/filing-board"
    default_view = "board"
    list_title = _l("Filing progress")

    def _args(self):
        today = clock.today()
        month = request.args.get("month") or Calendar.load().first_open("month", today)[0]
        start = guards.month_arg(month)  # 400 for a malformed month
        month = f"{start.year}-{start.month:02d}"
        state = request.args.get("state") or ""
        if state not in ("", "overdue", "pending", "done"):
            guards.refuse(400, "filter")
        page = request.args.get("page") or "0"
        if not (page.isascii() and page.isdigit() and int(page) <= guards.MAX_PAGE):
            guards.refuse(400, "page")
        return dict(month=month, today=today, accountant_id=_int_arg("accountant"),
                    group_id=_int_arg("group"), state=state or None, page=int(page))

    @expose("/")
    @has_access
    @permission_name("board")
    def board(self):
        args = self._args()
        cond = ScopedInterface(Client).scope_condition()
        result = board_service.build(args["month"], args["today"], cond,
                                     args["accountant_id"], args["group_id"], args["state"],
                                     args["page"], cache_key=self._who())
        self.update_redirect()
        sm = self.appbuilder.sm
        return self.render_template(
            "agencydesk/filing_board.html", title=gettext("Filing progress %(month)s",
                                                          month=args["month"]),
            board=result, args=args, states={k: gettext(v)
                                             for k, v in board_service.STATES.items()},
            percent=board_service.percent, page_size=board_service.PAGE_SIZE,
            can_complete=sm.has_access("can_complete", "ObligationModelView"),
            can_export=sm.has_access("can_export", "FilingBoardView"),
            staff=self._staff_cached(cond), groups=db.session.execute(
                select(ClientGroup).order_by(ClientGroup.name)).scalars().all(),
            appbuilder=self.appbuilder)

    def _who(self):
        """Who asks, as the scope sees him (the board's counts are cached per this):
        his id, his roles and the people and client groups his scope holds."""
        from ..security import scope

        user = g.user
        return (user.id, tuple(sorted(r.id for r in user.roles)),
                scope.resolve(user, db.session))

    _staff_cache: dict = {}
    STAFF_TTL = 300

    def _staff_cached(self, cond):
        """The accountant filter's people, kept per user for five minutes (a scan of
        the scope's clients; who is whose accountant changes seldom)."""
        import time
        from collections import namedtuple

        Person = namedtuple("Person", "id name")
        Person.__str__ = lambda p: p.name
        key, now = self._who(), time.monotonic()
        hit = self._staff_cache.get(key)
        if hit is None or now - hit[0] > self.STAFF_TTL:
            if len(self._staff_cache) > 500:
                self._staff_cache.clear()
            hit = (now, [Person(p.id, str(p)) for p in self._staff(cond)])
            self._staff_cache[key] = hit
        return hit[1]

    def _staff(self, cond):
        """The accountants of the clients the user sees (the accountant filter)."""
        if cond is None:
            # every client: one index probe per staff member (ix_client_bookkeeper),
            # not a DISTINCT over 100,000 clients
            has = select(Client.id).where(Client.bookkeeper_id == Staff.id,
                                          Client.status == "active")
            where = has.exists()
        else:
            # a scope: the DISTINCT over its (index-found) clients
            query = select(Client.bookkeeper_id).where(Client.status == "active",
                                                       Client.bookkeeper_id.isnot(None), cond)
            where = Staff.id.in_(select(query.distinct().subquery().c.bookkeeper_id))
        return db.session.execute(select(Staff).where(where)
                                  .order_by(Staff.last_name, Staff.first_name)).scalars().all()

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export_xlsx(self):
        """The board of the filter as a workbook (every client, not one page),
        audited as every export is."""
        args = self._args()
        cond = ScopedInterface(Client).scope_condition()
        states = {k: gettext(v) for k, v in board_service.STATES.items()}
        who = self._who()  # the counts once, not once per page of the export
        first = board_service.build(args["month"], args["today"], cond, args["accountant_id"],
                                    args["group_id"], args["state"], 0, 1, cache_key=who)
        headers = [gettext("Company name"), gettext("Bookkeeping accountant")] + [
            k.name for k in first.kinds]

        def rows():
            page = 0
            while True:
                part = board_service.build(args["month"], args["today"], cond,
                                           args["accountant_id"], args["group_id"],
                                           args["state"], page, 1000, cache_key=who)
                if not part.rows:
                    return
                for client, cells in part.rows:
                    yield [client.name, str(client.bookkeeper or "")] + [
                        states[c.state] for c in cells]
                page += 1

        title = gettext("Filing progress %(month)s", month=args["month"])
        data, count = write_xlsx(title, headers, rows())
        audit.record(db.session.connection(), "export", "obligation", changes={
            "view": "FilingBoardView", "query": request.query_string.decode("utf-8", "replace"),
            "rows": count})
        db.session.commit()
        return send_file(io.BytesIO(data), as_attachment=True, download_name=f"{title}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet")
