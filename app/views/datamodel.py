"""``ScopedInterface``: FAB's SQLAInterface with the visibility scope built in.

FAB's ``base_filters`` do not reach ``/action/<name>/<pk>``, ``action_post`` or the
relation dropdowns (FAB_NOTES). Every one of those, and list, show, edit, delete and
the REST API, goes through ``_apply_inner_all`` (``query``, ``query_count`` and
``get`` all call it), and related interfaces are built from ``self.__class__``, so
applying the scope here reaches every read path at once.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual, SQLAFilterConverter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..security import scope


def current_user_or_none():
    """The request's user, or None outside a request (CLI, jobs: the system)."""
    if not has_request_context():
        return None
    return getattr(g, "user", None)


class ChoiceFilterConverter(SQLAFilterConverter):
    """A choice column (``Model.__choices__``) filters by equal / not equal, with
    the select box the view puts in the search form."""

    def convert(self, col_name):
        if col_name in getattr(self.datamodel, "choices", {}):
            return [FilterEqual(col_name, self.datamodel),
                    FilterNotEqual(col_name, self.datamodel)]
        return super().convert(col_name)


class ScopedInterface(SQLAInterface):
    filter_converter_class = ChoiceFilterConverter

    def __init__(self, obj, session=None):
        super().__init__(obj, session)
        self.choices = getattr(obj, "__choices__", {})

    # ---- the scope -----------------------------------------------------------
    def scope_condition(self):
        user = current_user_or_none()
        if user is None:
            return None
        return scope.condition(user, self.obj, self.has_permission_for(user))

    def has_permission_for(self, user):
        sm = current_app.appbuilder.sm
        return lambda perm, view: sm.user_has(user, perm, view)

    def check_write(self, item) -> None:
        """Refuse a new or changed row that would fall outside the user's scope.

        :raises scope.ScopeError: (the session is rolled back first)
        """
        user = current_user_or_none()
        if user is None:
            return
        if item not in self.session:
            self.session.add(item)
        try:
            scope.check_write(user, item, self.has_permission_for(user), self.session)
        except scope.ScopeError:
            self.session.rollback()
            raise

    def _apply_inner_all(self, query, filters=None, *args, **kwargs):
        cond = self.scope_condition()
        if cond is not None:
            query = query.filter(cond)
        return super()._apply_inner_all(query, filters, *args, **kwargs)

    def get_many(self, ids) -> list:
        """Load rows by primary key through the scope (for actions and bulk edits)."""
        ids = {int(i) for i in ids}
        if not ids:
            return []
        query = self.session.query(self.obj).filter(self.obj.id.in_(ids))
        cond = self.scope_condition()
        if cond is not None:
            query = query.filter(cond)
        return query.all()

    # ---- faster list pages ---------------------------------------------------
    def query_count(self, query, filters=None, select_columns=None):
        # FAB counts with SELECT count(*) FROM (SELECT every column ...); a plain
        # count over the filtered rows lets the database use its indexes.
        inner = self._apply_inner_all(query, filters, select_columns=select_columns,
                                      aliases_mapping={})
        return inner.order_by(None).with_entities(func.count()).scalar()

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False):
        count = self.query_count(self.session.query(self.obj), filters, select_columns)
        if count == 0:
            return 0, []
        query = self.session.query(self.obj)
        if not select_columns:  # the REST API selects (and eager-loads) its own columns
            query = query.options(*self.list_load_options())
        query = self.apply_all(query, filters, order_column, order_direction, page,
                               page_size, select_columns, outer_default_load)
        rows = query.all()
        # With select_columns FAB's query yields rows of entities; unwrap like FAB does.
        name = self.obj.__name__
        if rows and hasattr(rows[0], name) and not isinstance(rows[0], self.obj):
            rows = [getattr(row, name) for row in rows]
        return count, rows

    def list_load_options(self):
        """Eager-load every many-to-one relation: lists show them, one row each."""
        return [joinedload(getattr(self.obj, name))
                for name in self.list_properties
                if self.is_relation_many_to_one(name)]

    # ---- choices: codes stored, translated labels shown ----------------------
    def _get_attr_value(self, item, col):
        value = SQLAInterface._get_attr_value(item, col)
        if col in self.choices and value in self.choices[col]:
            return gettext(self.choices[col][value])
        if value is None:
            return ""  # FAB would print "None"
        if value is True:
            return gettext("Yes")
        if value is False:
            return gettext("No")
        return value
