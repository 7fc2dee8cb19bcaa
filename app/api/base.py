"""``ScopedRestApi``: ModelRestApi on the visibility scope, writes checked like screens."""
from __future__ import annotations

from flask_appbuilder.api import ModelRestApi
from flask_babel import gettext

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

    def _refused(self):
        return self.response_422(message=gettext(OUT_OF_SCOPE_MESSAGE))

    def post_headless(self):
        try:
            return super().post_headless()
        except ScopeError:
            return self._refused()

    def put_headless(self, pk):
        try:
            return super().put_headless(pk)
        except ScopeError:
            return self._refused()
