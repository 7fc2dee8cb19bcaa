"""The one xlsx writer every list uses.

Rows come from the list's own scoped query (search, filters and quick search of
the request), columns are the ones the user may see, headers are the Chinese labels.
xlsxwriter runs in constant-memory mode (rows are flushed as written), dates and
money are real cells, and a text starting with = + - @ is written as text, never as
a formula (Superset's ``quote_formulas``: a company name typed by a client must not
run in a clerk's spreadsheet).
"""
from __future__ import annotations

import datetime
import decimal
import os
import tempfile

import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000


def cell_text(value) -> str:
    return str(value)


def write_xlsx(title: str, headers: list[str], rows, sheet_name: str | None = None) -> tuple[bytes, int]:
    """Write ``rows`` (iterables of values) under ``headers``; return (bytes, row count)."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True,
                                              "strings_to_formulas": False,
                                              "strings_to_urls": False,
                                              "strings_to_numbers": False})
        sheet = workbook.add_worksheet((sheet_name or title)[:31])
        bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2"})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
        datetime_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        money_fmt = workbook.add_format({"num_format": "#,##0.00"})
        for col, header in enumerate(headers):
            sheet.write_string(0, col, str(header), bold)
            sheet.set_column(col, col, max(10, min(40, len(str(header)) * 2 + 4)))
        count = 0
        for count, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(count, col, value)
                elif isinstance(value, datetime.datetime):
                    sheet.write_datetime(count, col, value, datetime_fmt)
                elif isinstance(value, datetime.date):
                    sheet.write_datetime(count, col, datetime.datetime.combine(value, datetime.time()), date_fmt)
                elif isinstance(value, decimal.Decimal):
                    sheet.write_number(count, col, float(value), money_fmt)
                elif isinstance(value, (int, float)):
                    sheet.write_number(count, col, value)
                else:
                    # write_string never interprets: "=cmd|..." stays text.
                    sheet.write_string(count, col, str(value))
        sheet.freeze_panes(1, 0)
        workbook.close()
        with open(path, "rb") as fh:
            return fh.read(), count
    finally:
        os.unlink(path)
