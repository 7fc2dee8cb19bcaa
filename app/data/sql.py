"""SQL expressions the same on SQLite and PostgreSQL: exact money sums, month and
year of a date."""
from __future__ import annotations

from sqlalchemy import (BigInteger, Integer, bindparam, case, cast, extract, func, literal,
                        select)
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert


def sum_cents(column):
    """``SUM`` of a NUMERIC(12,2) column as an integer number of cents (exact on
    SQLite, whose NUMERIC values are floats); ``app.domain.billing.cents_to_decimal``
    turns it back into money."""
    return func.sum(cast(func.round(column * 100), BigInteger))


def month_of(column):
    """The month (1–12) of a Date or DateTime column, on SQLite and PostgreSQL."""
    return cast(extract("month", column), Integer)


def year_of(column):
    return cast(extract("year", column), Integer)


def value_by_id(id_column, values: dict):
    """``CASE WHEN id IN (…) THEN v1 WHEN id IN (…) THEN v2 … END``: a value per row
    id for a set-based UPDATE, one branch per distinct value (500 rows completed for
    the same period are one branch, not 500: the statement compiles in a fraction of
    the time); NULL for an id not in ``values``."""
    groups: dict = {}
    for row_id, value in values.items():
        groups.setdefault(value, []).append(row_id)
    return case(*[(id_column.in_(ids), value) for value, ids in groups.items()])


def insert_unnest(table, constants: dict, arrays: dict):
    """PostgreSQL: ``INSERT INTO table (…) SELECT constants…, a, b FROM unnest(:a, :b)``
    — many rows in one statement with one array parameter per varying column. A
    multi-row VALUES of 500 rows × 11 columns is 5,500 parameters that psycopg parses
    out of the statement's text on every execution (~60 ms), and executemany sends
    one statement per row; the arrays are a handful of parameters whatever the count.
    (Returns PostgreSQL's INSERT: add ``.returning(…)`` or an ON CONFLICT as needed.)"""
    names = list(arrays)
    lengths = {len(values) for values in arrays.values()}
    if len(lengths) != 1:
        raise ValueError("arrays of different lengths")
    unnest = func.unnest(*[
        bindparam(f"u_{name}", values, type_=ARRAY(table.c[name].type))
        for name, values in arrays.items()]).table_valued(*names).render_derived(name="u")
    columns = list(constants) + names
    rows = select(*[literal(value, table.c[name].type).label(name)
                    for name, value in constants.items()],
                  *[unnest.c[name] for name in names])
    return pg_insert(table).from_select(columns, rows)
