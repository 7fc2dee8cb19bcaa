"""One xlsx import page for every register that imports (客户导入, 意向客户导入): the
template to download, the upload, every row checked by the register's import (all rows or
none), and the refused file's errors with a downloadable report. A register declares its
import, its template and its page's notes; the page, the route and the report are here."""
from __future__ import annotations

import base64
import io

from flask import flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_babel import gettext

from .. import imports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportPageView(BaseView):
    default_view = "index"
    #: the page (extends agencydesk/import.html and fills its ``notes`` block)
    page_template = ""
    #: where a file that imported whole goes next
    list_endpoint = ""

    # ---- what a register declares -----------------------------------------------
    def page_title(self) -> str:
        raise NotImplementedError

    def template_name(self) -> str:
        raise NotImplementedError

    def template_bytes(self) -> bytes:
        raise NotImplementedError

    def run_import(self, rows, filename: str):
        """Import the sheet's rows; an ``imports`` result (``created``, ``errors``)."""
        raise NotImplementedError

    def imported_message(self, n: int) -> str:
        raise NotImplementedError

    def page_extras(self) -> dict:
        return {}

    # ---- the page ------------------------------------------------------------------
    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def index(self):
        """The import page; a POST is an upload."""
        error, result, report = None, None, None
        if request.method == "POST":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                error = gettext("Choose a file to upload.")
            else:
                try:
                    result = self.run_import(imports.read_upload(upload), upload.filename)
                except imports.SheetError as exc:
                    error = imports.sheet_error_message(exc)
                else:
                    if not result.errors:
                        flash(self.imported_message(result.created), "success")
                        return redirect(url_for(self.list_endpoint))
                    # a data: link: the report needs no storage on this machine (the
                    # next request may reach another one) and no second upload
                    report = base64.b64encode(imports.error_report_xlsx(result.errors)).decode()
        return self.render_template(
            self.page_template, title=self.page_title(), error=error, result=result,
            report=report, errors=(result.errors[:200] if result else []),
            template_url=url_for(f"{type(self).__name__}.template"), **self.page_extras())

    @expose("/template.xlsx")
    @has_access
    @permission_name("import")
    def template(self):
        """The empty register with the template's headers."""
        return send_file(io.BytesIO(self.template_bytes()), as_attachment=True,
                         download_name=self.template_name() + ".xlsx", mimetype=XLSX)
