"""SQL expressions the same on SQLite and PostgreSQL: exact money sums, month and
year of a date."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, case, cast, extract, func


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
