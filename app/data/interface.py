"""``ScopedInterface``: FAB's SQLAInterface with the visibility scope built in.

FAB's ``base_filters`` do not reach ``/action/<name>/<pk>``, ``action_post`` or the
relation dropdowns (FAB_NOTES). Every one of those, and list, show, edit, delete and
the REST API, goes through ``_apply_inner_all`` (``query``, ``query_count`` and
``get`` all call it), and related interfaces are built from ``self.__class__``, so
applying the scope here reaches every read path at once.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_appbuilder.models.sqla.filters import (FilterContains, FilterEqual, FilterNotEqual,
                                                  SQLAFilterConverter)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.models.filters import Filters
from flask_babel import gettext
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload, undefer

from ..domain.validation import parse_id
from . import textsearch
from ..security import scope
from .config_cache import request_store


def current_user_or_none():
    """The request's user, or None outside a request (CLI, jobs: the system)."""
    if not has_request_context():
        return None
    return getattr(g, "user", None)


class ChoiceFilterConverter(SQLAFilterConverter):
    """A choice column (``Model.__choices__``) filters by equal / not equal, with
    the select box the view puts in the search form."""

    def convert(self, col_name):
        # FAB builds a ``Filters`` object several times per request (search form,
        # inner filters, joined filters), each converting every column of the model
        # into new filter instances. Filter instances hold no request state (column,
        # datamodel, model), so they are made once per datamodel and column; a
        # fresh list is returned because FAB extends it in place.
        cache = self.datamodel.__dict__.setdefault("_filter_cache", {})
        if col_name not in cache:
            cache[col_name] = self._convert(col_name)
        filters = cache[col_name]
        return list(filters) if filters is not None else None

    def _convert(self, col_name):
        if col_name in getattr(self.datamodel, "choices", {}):
            return [FilterEqual(col_name, self.datamodel),
                    FilterNotEqual(col_name, self.datamodel)]
        filters = super().convert(col_name)
        index = textsearch.index_of(self.datamodel.obj)
        if filters and index is not None and col_name in index[1]:
            filters = [IndexedContains(col_name, self.datamodel)
                       if type(f) is FilterContains else f for f in filters]
        return filters


class IndexedContains(FilterContains):
    """FAB's "contains" (``ILIKE '%value%'``), narrowed first by the model's text
    index where the database needs to be told (SQLite FTS5; PostgreSQL's trigram
    indexes serve the ILIKE itself): same rows, without reading all of them. A
    value with ``%`` or ``_`` — wildcards to FAB's ILIKE — keeps the plain ILIKE."""

    def apply(self, query, value):
        query = super().apply(query, value)
        if any(ch in value for ch in "%_"):
            return query
        ids = textsearch.candidates(self.datamodel.session, self.model, [self.column_name],
                                    value)
        return query.filter(ids) if ids is not None else query


class AtLeast(int):
    """A count known only to be at least this (a capped count): shown "1000+",
    computed with as the number."""

    def __str__(self):
        return f"{int(self)}+"


def computed_columns(model) -> list:
    """The model's column properties that are SQL expressions, not stored columns."""
    from sqlalchemy import Column

    return [attr.key for attr in model.__mapper__.column_attrs
            if not isinstance(attr.columns[0], Column)]


def count_cap(filters):
    """The smallest cap a filter puts on the list's count (``count_cap(value)`` of
    a filter, e.g. a search box fragment too short for the text index), or None."""
    if filters is None:
        return None
    caps = [f.count_cap(v) for f, v in zip(filters.filters, filters.values)
            if hasattr(f, "count_cap")]
    caps = [c for c in caps if c]
    return min(caps) if caps else None


class ScopedInterface(SQLAInterface):
    filter_converter_class = ChoiceFilterConverter

    def __init__(self, obj, session=None):
        super().__init__(obj, session)
        self.choices = getattr(obj, "__choices__", {})
        # Computed, read-only column properties (the client's next 抄税清卡 date) are
        # no fields to FAB: no form, search filter or API column is built for them;
        # lists show them as attributes (undeferred with the page, ``_undefer``).
        for name in computed_columns(obj):
            self.list_columns.pop(name, None)
            self.list_properties.pop(name, None)

    # ---- the scope -----------------------------------------------------------
    def scope_condition(self):
        user = current_user_or_none()
        if user is None:
            return None
        # Built once per request, user and model: the expression (IN lists of his
        # team's ids, the subquery of his clients) takes ~0.5 ms to build, and the
        # client page asks once per panel. It is immutable; the sets it is built from
        # are kept per config token (``scope.resolve``).
        cache = (request_store().setdefault("_scope_conditions", {})
                 if has_request_context() else {})  # the CLI and jobs build it each time
        key = (id(user), getattr(user, "id", None), self.obj)
        try:
            return cache[key]
        except KeyError:
            cond = cache[key] = scope.condition(user, self.obj, self.has_permission_for(user),
                                                self.session)
            return cond

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

    def get(self, id, filters=None, select_columns=None, outer_default_load=False):
        # FAB passes the URL's <pk> as text: one that cannot be a row id (letters, 25
        # digits) is no row, rather than an error from the database.
        pk = parse_id(id)
        if pk is None:
            return None
        if select_columns or self.is_pk_composite():
            return super().get(pk, filters, select_columns, outer_default_load)
        # FAB's get, with the row's many-to-one relations (记账会计, 外勤会计, 客户来源 …)
        # in the same statement: a show or edit page reads them all
        found = filters.copy() if filters else Filters(self.filter_converter_class, self)
        found.add_filter(self.get_pk_name(), self.FilterEqual, pk)
        query = self.session.query(self.obj).options(*self.list_load_options(None))
        return self.apply_all(query, found).one_or_none()

    def get_many(self, ids) -> list:
        """Load rows by primary key through the scope (for actions and bulk edits);
        ids that cannot be row ids are left out (the caller compares counts)."""
        ids = {pk for pk in (parse_id(i) for i in ids) if pk is not None}
        if not ids:
            return []
        query = self.session.query(self.obj).filter(self.obj.id.in_(ids))
        cond = self.scope_condition()
        if cond is not None:
            query = query.filter(cond)
        return query.all()

    # ---- faster list pages ---------------------------------------------------
    def query_count(self, query, filters=None, select_columns=None, cap=None):
        # FAB counts with SELECT count(*) FROM (SELECT every column ...); a plain
        # count over the filtered rows lets the database use its indexes.
        inner = self._apply_inner_all(query, filters, select_columns=select_columns,
                                      aliases_mapping={}).order_by(None)
        if cap:
            # counted up to cap + 1 rows: the scan stops there (see count_cap)
            from sqlalchemy import literal_column, select

            limited = inner.with_entities(literal_column("1")).limit(cap + 1).subquery()
            n = self.session.execute(select(func.count()).select_from(limited)).scalar()
            return AtLeast(cap) if n > cap else n
        if inner.whereclause is None:
            # no filter and no scope: "SELECT count(*)" alone would have no FROM (= 1)
            return self.session.query(func.count()).select_from(self.obj).scalar()
        complement = self._complement_count(inner.whereclause)
        if complement is None:
            complement = self._union_count(inner)
        if complement is not None:
            return self.session.execute(complement).scalar()
        return inner.with_entities(func.count()).scalar()

    def _union_count(self, inner):
        """On SQLite, ``count(a OR b OR c, and the rest)`` of one table as the count of
        ``(a, the rest) UNION (b, the rest) UNION …`` when a, b, c are ``=`` / ``IN``
        tests: the accountant's client list (记账会计 / 外勤会计 / 销售 are his) is
        counted from three covering indexes (~1 ms at 100,000 clients) where SQLite
        scans every client for the OR (30 ms) when one of the columns is mostly empty.
        None: not that shape (then the plain count)."""
        from sqlalchemy import and_, select, union
        from sqlalchemy.sql import operators
        from sqlalchemy.sql.elements import BinaryExpression, BooleanClauseList, Grouping

        if self.session.get_bind().dialect.name != "sqlite":
            return None
        table = self.obj.__table__
        if inner.statement.get_final_froms() != [table]:
            return None

        def bare(clause):
            return clause.element if isinstance(clause, Grouping) else clause

        where = bare(inner.whereclause)
        conjuncts = ([bare(c) for c in where.clauses]
                     if isinstance(where, BooleanClauseList) and where.operator is operators.and_
                     else [where])
        ors = [c for c in conjuncts
               if isinstance(c, BooleanClauseList) and c.operator is operators.or_]
        if len(ors) != 1 or not 1 < len(ors[0].clauses) <= 8:
            return None
        if not all(isinstance(bare(d), BinaryExpression)
                   and bare(d).operator in (operators.eq, operators.in_op)
                   for d in ors[0].clauses):
            return None
        rest = [c for c in conjuncts if c is not ors[0]]
        pk = table.c[self.get_pk_name()]
        ids = union(*[select(pk).where(and_(d, *rest)) for d in ors[0].clauses]).subquery()
        return select(func.count()).select_from(ids)

    def _complement_count(self, where):
        """``count(all) - count(column = v)`` for a lone ``column != v`` on a NOT NULL
        column (the admin's client list: every client but the deleted ones), on
        SQLite, in one statement. SQLite counts a whole table from its smallest
        index's page counts (0.5 ms at 100,000 rows) and the few excluded rows by
        index, where ``!=`` walks ~98,000 index entries (10 ms). PostgreSQL scans
        either way, so it keeps the plain count. None: not that shape."""
        from sqlalchemy import Column, select
        from sqlalchemy.sql import operators
        from sqlalchemy.sql.elements import BinaryExpression, BindParameter

        if self.session.get_bind().dialect.name != "sqlite":
            return None
        if not (isinstance(where, BinaryExpression) and where.operator is operators.ne
                and isinstance(where.left, Column) and isinstance(where.right, BindParameter)
                and where.left.table is self.obj.__table__ and not where.left.nullable):
            return None
        table = self.obj.__table__
        total = select(func.count()).select_from(table).scalar_subquery()
        excluded = select(func.count()).select_from(table).where(
            where.left == where.right).scalar_subquery()
        return select(total - excluded)

    def query(self, filters=None, order_column="", order_direction="", page=None,
              page_size=None, select_columns=None, outer_default_load=False,
              load_columns=None, window_count=False):
        """FAB's ``query`` (count, rows), with two savings:

        - the page is read first, and the COUNT is skipped when the page itself
          proves the total (a short page, or no paging: relation dropdowns);
        - only the many-to-one relations in ``load_columns`` are eager-loaded (a
          list passes its columns; ``None`` keeps the old "all of them");
        - ``window_count``: the total comes with the rows (``count(*) OVER ()``, one
          statement) — for small sets such as a client page's panels; a large list
          would compute every row before its LIMIT, so lists keep the separate COUNT.
        """
        query = self.session.query(self.obj)
        if not select_columns:  # the REST API selects (and eager-loads) its own columns
            query = query.options(*self.list_load_options(load_columns))
        if window_count and not select_columns:
            query = self.apply_all(query, filters, order_column, order_direction, page,
                                   page_size, None, outer_default_load)
            rows = query.add_columns(func.count().over()).all()
            if rows:
                return rows[0][1], [row[0] for row in rows]
            if not page:
                return 0, []
            # a page past the end: its rows do not say how many there are
            return self.query_count(self.session.query(self.obj), filters), []
        query = self.apply_all(query, filters, order_column, order_direction, page,
                               page_size, select_columns, outer_default_load)
        rows = query.all()
        # With select_columns FAB's query yields rows of entities; unwrap like FAB does.
        name = self.obj.__name__
        if rows and hasattr(rows[0], name) and not isinstance(rows[0], self.obj):
            rows = [getattr(row, name) for row in rows]
        count = self._count_from_page(rows, page, page_size, select_columns)
        if count is None:
            count = self.query_count(self.session.query(self.obj), filters, select_columns,
                                     cap=count_cap(filters))
        return count, rows

    def _count_from_page(self, rows, page, page_size, select_columns):
        """The exact total when the page shows it, else None (FAB pages with
        OFFSET page * page_size LIMIT page_size, or not at all without a size)."""
        if select_columns and self.exists_col_to_many(select_columns):
            return None  # rows come from an outer query over a paged inner one
        if not page_size:
            return len(rows)
        if len(rows) < page_size and (rows or not page):
            return (page or 0) * page_size + len(rows)
        return None

    def iter_all(self, filters, order_column="", order_direction="", batch=2000,
                 columns=None):
        """Every row the filters (and the scope) select, streamed in batches: exports
        hold one batch in memory, not the whole list. ``columns``: the exported ones
        (their deferred column properties are read in the same statement)."""
        # joinedload cannot stream (it needs unique()); selectinload loads each
        # batch's related rows with one query per relation.
        options = [selectinload(getattr(self.obj, name)) for name in self.list_properties
                   if self.is_relation_many_to_one(name)]
        options += self._undefer(columns or ())
        query = self.apply_all(self.session.query(self.obj).options(*options), filters,
                               order_column, order_direction)
        return query.yield_per(batch)  # the legacy Query method: it also skips unique()

    def list_load_options(self, columns=None):
        """Eager-load the many-to-one relations a list shows (``columns``, dotted
        names count by their root; None: every one), one joined query for all rows."""
        names = (self.list_properties if columns is None
                 else dict.fromkeys(c.split(".", 1)[0] for c in columns))
        return [joinedload(getattr(self.obj, name))
                for name in names
                if name in self.list_properties and self.is_relation_many_to_one(name)] \
            + self._undefer(columns or ())

    def _undefer(self, columns) -> list:
        """Load the deferred column properties among ``columns`` with the rows (the
        client list's next 抄税清卡 / 工商年报 dates: a subquery in the page's own
        statement, not one query per row)."""
        computed = computed_columns(self.obj)
        return [undefer(getattr(self.obj, name)) for name in columns if name in computed]

    # ---- relation dropdowns ----------------------------------------------------
    def get_related_interface(self, col_name):
        # FAB builds a new interface (mapper inspection, ~0.1 ms) for every related
        # column on every call, and its dropdowns call this once per *option* to
        # read the option's primary key. The interface holds no request state (the
        # scope is read from ``g`` when a query runs), so one per column is kept.
        cache = self.__dict__.setdefault("_related_interfaces", {})
        if col_name not in cache:
            cache[col_name] = super().get_related_interface(col_name)
        return cache[col_name]

    def relation_choices(self, col_name, rel_filters=None) -> list:
        """The rows a form's dropdown for ``col_name`` offers: through the related
        model's scope and ``rel_filters`` (``*_form_query_rel_fields`` entries), with
        no COUNT and no eager loads, read once per request for equal lists (记账会计
        and 外勤会计 offer the same staff)."""
        related = self.get_related_interface(col_name)
        key = (related.obj, repr(rel_filters or []))
        cache = g.setdefault("_agencydesk_choices", {}) if has_request_context() else {}
        if key not in cache:
            filters = related.get_filters().add_filter_list(rel_filters or [])
            query = related.apply_all(related.session.query(related.obj), filters)
            cache[key] = query.all()
        return cache[key]

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
