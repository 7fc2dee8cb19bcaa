"""``ScopedRestApi``: ModelRestApi on the visibility scope, writes checked like screens."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import ModelRestApi
from flask_babel import gettext

from ..security.fields import hidden_fields
from ..views.datamodel import current_user_or_none
from ..security.scope import ScopeError
from ..views.base import OUT_OF_SCOPE_MESSAGE


class ScopedRestApi(ModelRestApi):
    """Reads go through ``ScopedInterface`` (404 outside the scope); a post or put
    that would leave the row outside the scope answers 422 and saves nothing."""

    allow_browser_login = True

    def pre_add(self, item):
        self.datamodel.check_write(item)

    def pre_update(self, item):
        self.datamodel.check_write(item)

    # ---- 字段可见性: hidden fields never leave, and are never written ----------
    def hidden(self) -> frozenset:
        return hidden_fields(current_user_or_none(), self.datamodel.obj.__tablename__,
                             self.datamodel.session)

    def _drop_hidden(self, record: dict) -> None:
        for name in self.hidden():
            record.pop(name, None)
            for key in [k for k in record if k.startswith(name + ".")]:
                record.pop(key, None)

    def pre_get(self, data):
        self._drop_hidden(data.get("result", {}))

    def pre_get_list(self, data):
        for record in data.get("result", []):
            self._drop_hidden(record)
        hidden = self.hidden()
        for key in ("list_columns", "label_columns", "description_columns"):
            value = data.get(key)
            if isinstance(value, list):
                data[key] = [c for c in value if c not in hidden]
            elif isinstance(value, dict):
                data[key] = {k: v for k, v in value.items() if k not in hidden}

    def _strip_hidden_from_request(self):
        # FAB reads request.json after this returns; the parsed body is cached on the
        # request, so removing the keys here means a posted hidden value is ignored.
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            for name in self.hidden():
                body.pop(name, None)

    def _refused(self):
        return self.response_422(message=gettext(OUT_OF_SCOPE_MESSAGE))

    def post_headless(self):
        self._strip_hidden_from_request()
        try:
            return super().post_headless()
        except ScopeError:
            return self._refused()

    def put_headless(self, pk):
        self._strip_hidden_from_request()
        try:
            return super().put_headless(pk)
        except ScopeError:
            return self._refused()
