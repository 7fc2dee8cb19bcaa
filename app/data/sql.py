"""SQL expressions the same on SQLite and PostgreSQL: exact money sums, month and
year of a date."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, cast, extract, func


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
