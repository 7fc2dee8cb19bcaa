"""The one spreadsheet reader (openpyxl, read-only), and 客户导入 built on it.

Reading: :func:`open_sheet` streams the first sheet of an .xlsx row by row
(``read_only=True``: the file is never loaded whole), header row first; every other
import reads through it.

客户导入 (:func:`import_clients`) is all rows or none:

1. every row is checked — required name; credit code (GB 32100-2015) and phones;
   duplicate credit codes within the file and against the database; dictionaries by
   name, choices by their Chinese (or English, or code) label, staff by user name;
   fee and dates; and the importer's scope: a client assigned so that the importer
   could not see it is refused, as on the client form (the object form of the one
   scope rule, ``scope.allows``, on the unsaved row);
2. any error: nothing is written, and the errors (row number as Excel shows it,
   column header, message) come back for the page and the downloadable report;
3. no error: all clients are inserted with one executemany ``INSERT … RETURNING id``
   (no ORM object and no flush per row), in one transaction.

Audit choice: one ``insert`` audit row per imported client — the same shape the
session listener writes for a client saved on the form (every non-empty field as
``[None, value]``), so each client's 操作日志 history starts with its creation like any
other client's — written with a single executemany INSERT, plus one ``import`` event
row naming the file and the count. A summary row listing ids would be smaller, but
a client's history could then only be found by searching inside other rows' JSON.
"""
from __future__ import annotations

import datetime
import decimal
import io
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from zipfile import BadZipFile

from defusedxml import DefusedXmlException
from openpyxl import DEFUSEDXML

# openpyxl parses with defusedxml only when it can import it: without it an entity
# bomb in an upload would be expanded. Refuse to run that way.
assert DEFUSEDXML, "openpyxl must use defusedxml (pip install defusedxml)"

from flask_babel import force_locale, gettext
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from . import audit
from .clock import local_now
from .data import integrity
from .domain import validation
from .domain.choices import BILLING_CYCLE, STATUS_ACTIVE, TAXPAYER_TYPE, N_
from .exports import write_xlsx
from .extensions import db
from .i18n import message as rule_message
from .models import AuditLog, Client, DictItem, Staff
from .domain import taxkinds as taxkind_rules
from .security import scope
from .services import taxkinds

#: the importable columns: the header a clerk sees in the template (fixed Chinese:
#: the file format does not change with the screen language) → Client field
CLIENT_COLUMNS = [
    ("公司名称", "name"), ("简称", "short_name"), ("统一社会信用代码", "credit_code"),
    ("法人", "legal_rep"), ("法人电话", "legal_rep_phone"), ("联系人", "contact_name"),
    ("联系电话", "contact_phone"), ("客户来源", "source"), ("纳税人类型", "taxpayer_type"),
    ("收费周期", "billing_cycle"), ("服务费", "service_fee"), ("下次收费日期", "next_fee_date"),
    ("记账会计(用户名)", "bookkeeper"), ("外勤会计(用户名)", "field_agent"), ("备注", "note"),
    ("上门取票", "ticket_pickup"), ("报税税种", "tax_kinds"),
]
HEADERS = [header for header, _ in CLIENT_COLUMNS]
HEADER_OF = {key: header for header, key in CLIENT_COLUMNS}
#: at most this many data rows per file (a larger register is imported in parts)
MAX_ROWS = 50_000
#: and at most this many bytes
MAX_BYTES = 20 * 1024 * 1024
#: an .xlsx is a zip: its parts may unpack to at most this many bytes in all, and
#: none may be more than MAX_RATIO times its packed size (a zip bomb is refused
#: before anything is unpacked)
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 200

# Words a clerk types for a choice, besides its code and its labels.
TAXPAYER_ALIASES = {"小规模": "small", "一般": "general"}
CYCLE_ALIASES = {
    "月": "month", "按月": "month", "月付": "month", "每月": "month", "1个月": "month",
    "季": "quarter", "季度": "quarter", "按季": "quarter", "按季度": "quarter",
    "季付": "quarter", "每季": "quarter", "每季度": "quarter",
    "半年": "half_year", "按半年": "half_year", "半年付": "half_year", "每半年": "half_year",
    "年": "year", "按年": "year", "年付": "year", "每年": "year", "一年": "year",
}
#: 上门取票: 无 / 每月 / 每季 (and what clerks write for them)
PICKUP_WORDS = {"无": "none", "不需要": "none", "否": "none", "none": "none",
                "每月": "month", "按月": "month", "月": "month", "是": "month", "month": "month",
                "每季": "quarter", "按季": "quarter", "季": "quarter", "季度": "quarter",
                "quarter": "quarter"}
#: 下次收费日期 may say that the client is not billed (a state, not a date)
NOT_BILLED = {"免费": "free", "停止计费": "stopped", "停止收费": "stopped"}

MESSAGES = {
    "unreadable": N_("The file could not be read: upload the .xlsx file made from the "
                     "template (save it as an Excel workbook, not .xls or .csv)."),
    "too_big": N_("The file is too large (at most 20 MB)."),
    "empty": N_("The file has no rows to import."),
    "too_many": N_("The file has more than %(n)d rows: import it in parts."),
    "no_header": N_("The first row must hold the column headers of the template."),
    "duplicate_column": N_("This column appears twice."),
    "dup_file": N_("This credit code is already used in row %(row)d of the file."),
    "dup_db": N_("A client with this credit code already exists."),
    "source": N_("No client source is called %(value)s (see Administration › Client sources)."),
    "taxpayer": N_("Unknown taxpayer type %(value)s: write 小规模纳税人 or 一般纳税人."),
    "cycle": N_("Unknown billing cycle %(value)s: write 按月, 按季, 按半年 or 按年."),
    "staff": N_("No active user has the user name %(value)s."),
    "scope": N_("Not imported: with these accountants the client would be outside the "
                "clients you may see."),
    "pickup": N_("Unknown ticket pickup %(value)s: write 无, 每月 or 每季."),
    "conflict": N_("Another user added a client with one of these credit codes while the "
                   "file was being imported; nothing was imported. Please upload it again."),
}


def message(key: str, **values) -> str:
    return gettext(MESSAGES[key], **values)


class SheetError(ValueError):
    """The upload is not a readable workbook (``reason``: a ``MESSAGES`` key)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---- the reader --------------------------------------------------------------------
@contextmanager
def open_sheet(stream):
    """``(headers, rows)`` of the first sheet of an .xlsx file: ``headers`` are the
    first row's texts, ``rows`` yields ``(row number as Excel shows it, values)`` for
    the rows below it, read lazily. Closes the workbook on exit.

    :raises SheetError: ``unreadable`` (not an .xlsx workbook) or ``empty``.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(stream)
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError, TypeError,
            SyntaxError, DefusedXmlException):
        # SyntaxError: expat's ParseError; DefusedXmlException: an entity bomb or an
        # external entity, refused by defusedxml
        raise SheetError("unreadable") from None
    try:
        if not workbook.worksheets:
            raise SheetError("empty")
        sheet = workbook.worksheets[0]
        # read_only trusts the file's <dimension> tag, which some writers get wrong
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise SheetError("empty")
        headers = [_text(v) for v in first]
        yield headers, _rows(rows)
    finally:
        workbook.close()


def _rows(rows):
    """The rows below the header; a part of the sheet that turns out malformed while
    it is being read is an unreadable file, not an error of the server."""
    try:
        yield from enumerate(rows, start=2)
    except (KeyError, ValueError, TypeError, SyntaxError, DefusedXmlException):
        raise SheetError("unreadable") from None


def _check_zip(stream) -> None:
    """Refuse a file whose parts would unpack to more than ``MAX_UNPACKED`` bytes or
    pack too well (a zip bomb), before any part is unpacked.

    :raises SheetError: ``unreadable`` or ``too_big``.
    """
    import zipfile

    try:
        with zipfile.ZipFile(stream) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if info.file_size > MAX_RATIO * max(info.compress_size, 1024):
                    raise SheetError("too_big")
            if total > MAX_UNPACKED:
                raise SheetError("too_big")
    except (BadZipFile, OSError, ValueError):
        raise SheetError("unreadable") from None
    finally:
        stream.seek(0)


def _text(value) -> str:
    """A cell as text: integers without ".0" (a phone number typed as a number)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    return str(value).strip()


def _header_key(text: str) -> str:
    """Headers compared loosely: full-width brackets, spaces and a missing
    "(用户名)" do not matter."""
    text = text.replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "")
    return text.replace("(用户名)", "")


_COLUMN_BY_KEY = {_header_key(header): key for header, key in CLIENT_COLUMNS}


# ---- the template --------------------------------------------------------------------
def template_xlsx() -> bytes:
    """An empty client register with the template's headers."""
    data, _ = write_xlsx(gettext("Client import"), HEADERS, [])
    return data


@dataclass
class RowError:
    row: int
    column: str
    message: str


def error_report_xlsx(errors: list[RowError]) -> bytes:
    """The errors as a workbook: row number, column, message."""
    data, _ = write_xlsx(gettext("Import errors"),
                         [gettext("Row number"), gettext("Column"), gettext("Error")],
                         ((e.row, e.column, e.message) for e in errors))
    return data


# ---- 客户导入 --------------------------------------------------------------------------
@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class _Lookups:
    """Everything a row is checked against, read once per import."""

    def __init__(self):
        self.sources = {name: id_ for id_, name in db.session.execute(
            select(DictItem.id, DictItem.name).where(DictItem.kind == "client_source",
                                                     DictItem.active.is_(True)))}
        self.staff = {name: id_ for id_, name in db.session.execute(
            select(Staff.id, Staff.username).where(Staff.active.is_(True),
                                                   Staff.locked_at.is_(None)))}
        self.taxpayer = _choice_lookup(TAXPAYER_TYPE, TAXPAYER_ALIASES)
        self.kinds = taxkinds.names()
        self.cycle = _choice_lookup(BILLING_CYCLE, CYCLE_ALIASES)


def _choice_lookup(mapping: dict, aliases: dict) -> dict:
    """Text → code: the code, the English label and the Chinese label (whatever the
    screen language), and the aliases."""
    found = {}
    for code, label in mapping.items():
        found[code.lower()] = code
        found[label.lower()] = code
        with force_locale("zh"):
            found[gettext(label)] = code
    found.update(aliases)
    return found


def _date_cell(value):
    """A date cell as the Date rule reads it: an Excel serial day number (a date
    typed in a cell formatted as a number) becomes the day; text and dates as they
    are."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and 20000 < value < 80000:
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    return value if isinstance(value, (datetime.date, datetime.datetime)) else _text(value)


class _RowChecker:
    """Turns one row of cells into the values of a ``client`` INSERT, collecting
    errors instead of stopping at the first."""

    def __init__(self, lookups: _Lookups, user, has_permission):
        self.lookups, self.user, self.has_permission = lookups, user, has_permission
        self.codes_seen: dict[str, int] = {}

    def check(self, number: int, cells: dict, errors: list[RowError]) -> dict:
        lk = self.lookups
        rules = integrity.rules_of(Client)

        def fail(key, reason, **values):
            errors.append(RowError(number, HEADER_OF[key], message(reason, **values)))

        def clean(key, value):
            """The cell through the column's field rule (the one every path uses)."""
            try:
                return rules[key].clean(value)
            except validation.FieldError as exc:
                errors.append(RowError(number, HEADER_OF[key],
                                       rule_message(exc.reason, **exc.params)))
                return None

        values = {}
        for key in ("name", "short_name", "legal_rep", "contact_name", "note",
                    "credit_code", "legal_rep_phone", "contact_phone"):
            values[key] = clean(key, _text(cells.get(key)))
        if values["credit_code"]:
            first = self.codes_seen.setdefault(values["credit_code"], number)
            if first != number:
                fail("credit_code", "dup_file", row=first)

        source = _text(cells.get("source"))
        values["source_id"] = None
        if source:
            values["source_id"] = lk.sources.get(source)
            if values["source_id"] is None:
                fail("source", "source", value=source)

        for key, table, default, err in (("taxpayer_type", lk.taxpayer, "small", "taxpayer"),
                                          ("billing_cycle", lk.cycle, "month", "cycle")):
            text = _text(cells.get(key))
            values[key] = default
            if text:
                values[key] = table.get(text) or table.get(text.lower())
                if values[key] is None:
                    fail(key, err, value=text)

        fee = cells.get("service_fee")
        values["service_fee"] = (clean("service_fee", fee) if _text(fee) else None) \
            or decimal.Decimal("0.00")

        values["billing_state"], values["next_fee_date"] = "billed", None
        due = cells.get("next_fee_date")
        if _text(due):
            if _text(due) in NOT_BILLED:
                values["billing_state"] = NOT_BILLED[_text(due)]
            else:
                values["next_fee_date"] = clean("next_fee_date", _date_cell(due))

        pickup = _text(cells.get("ticket_pickup"))
        values["ticket_pickup"] = PICKUP_WORDS.get(pickup.lower(), None) if pickup else "none"
        if values["ticket_pickup"] is None:
            fail("ticket_pickup", "pickup", value=pickup)
        values["tax_kinds"] = {}
        kinds_text = _text(cells.get("tax_kinds"))
        if kinds_text:
            try:
                values["tax_kinds"] = taxkind_rules.parse_kinds(kinds_text, lk.kinds)
            except taxkind_rules.KindsError as exc:
                errors.append(RowError(number, HEADER_OF["tax_kinds"],
                                       gettext(taxkind_rules.MESSAGES[exc.reason], **exc.params)))

        staff_ok = True
        for key in ("bookkeeper", "field_agent"):
            name = _text(cells.get(key))
            values[key + "_id"] = None
            if name:
                values[key + "_id"] = lk.staff.get(name)
                if values[key + "_id"] is None:
                    staff_ok = False
                    fail(key, "staff", value=name)
        if staff_ok and not self._visible(values):
            fail("bookkeeper", "scope")
        return values

    def _visible(self, values: dict) -> bool:
        """Would the importer see this client once saved? The object form of the one
        scope rule, on an unsaved row (no flush, no query per row)."""
        probe = Client(bookkeeper_id=values["bookkeeper_id"],
                       field_agent_id=values["field_agent_id"], client_group_id=None)
        return scope.allows(self.user, probe, self.has_permission, db.session)


def _cells(headers_index: dict, row: tuple) -> dict:
    return {key: row[i] if i < len(row) else None for key, i in headers_index.items()}


def _blank(row: tuple) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def check_file(stream, user, has_permission) -> tuple[list[dict], list[RowError], int]:
    """Read and check every row: (INSERT values of the good rows, errors, data rows).

    :raises SheetError: the file is unreadable, empty or too large.
    """
    errors: list[RowError] = []
    good: list[dict] = []
    with open_sheet(stream) as (headers, rows):
        index: dict[str, int] = {}
        for i, header in enumerate(headers):
            if not header:
                continue
            key = _COLUMN_BY_KEY.get(_header_key(header))
            if key is None:
                continue  # extra columns (a clerk's own notes) are ignored
            if key in index:
                errors.append(RowError(1, header, message("duplicate_column")))
            index[key] = i
        if "name" not in index:
            raise SheetError("no_header")
        checker = _RowChecker(_Lookups(), user, has_permission)
        count = 0
        for number, row in rows:
            if row is None or _blank(row):
                continue
            count += 1
            if count > MAX_ROWS:
                raise SheetError("too_many")
            row_errors: list[RowError] = []
            values = checker.check(number, _cells(index, row), row_errors)
            if row_errors:
                errors.extend(row_errors)
            else:
                good.append(values)
    if not count:
        raise SheetError("empty")
    _check_existing_codes(good, errors, checker.codes_seen)
    return good, errors, count


def _check_existing_codes(good: list[dict], errors: list[RowError], rows_of: dict) -> None:
    """Credit codes already held by a client in the database (any client: uniqueness
    does not depend on who is looking), a few hundred codes per query."""
    found = sorted(rows_of)
    table = Client.__table__
    taken: set[str] = set()
    for start in range(0, len(found), 500):
        chunk = found[start:start + 500]
        taken.update(db.session.execute(select(table.c.credit_code)
                                        .where(table.c.credit_code.in_(chunk))).scalars())
    for code in sorted(taken, key=lambda c: rows_of[c]):
        errors.append(RowError(rows_of[code], HEADER_OF["credit_code"], message("dup_db")))
    # rows_of holds each code's first row; later rows with it were reported in the file
    errors.sort(key=lambda e: (e.row, HEADERS.index(e.column) if e.column in HEADERS else 99))


def import_clients(stream, user, has_permission, filename: str = "") -> ImportResult:
    """客户导入: all rows or none (see the module docstring).

    :param user: the importer (None: the system, which sees everything).
    :param has_permission: ``has_permission(perm, view)`` for that user.
    :raises SheetError: the file cannot be read as a client register.
    """
    good, errors, count = check_file(stream, user, has_permission)
    result = ImportResult(rows=count, errors=errors)
    if errors:
        return result
    now = local_now().replace(microsecond=0)
    table = Client.__table__
    kinds = [values.pop("tax_kinds", {}) for values in good]
    rows = [{**values, "status": STATUS_ACTIVE, "tax_device_type": "none",
             "tax_device_custody": False, "provides_address": False,
             "onsite_bookkeeping": False, "created_on": now, "changed_on": now}
            for values in good]
    conn = db.session.connection()
    try:
        ids = list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),
                                rows).scalars())
    except IntegrityError:
        db.session.rollback()
        result.errors = [RowError(0, HEADER_OF["credit_code"], message("conflict"))]
        return result
    _audit_rows(conn, ids, rows)
    from .services.contacts import index_clients

    index_clients(conn, ids)  # 防撞单 knows the new clients' codes and phones
    audit.record(conn, "import", Client.__tablename__,
                 changes={"file": filename, "rows": len(ids)})
    for pk, chosen in zip(ids, kinds):
        taxkinds.set_kinds(pk, chosen)
    # the new clients' tax kinds (chosen or their taxpayer type's) and obligations,
    # in the import's transaction: all or nothing still
    from . import clock
    from .services.obligations import sync_range

    sync_range(min(ids) - 1, max(ids), clock.today(), clock.tz_name())
    db.session.commit()
    result.created, result.ids = len(ids), ids
    return result


def _audit_rows(conn, ids: list[int], rows: list[dict]) -> None:
    """One ``insert`` audit row per client, as the session listener would write it,
    in one executemany."""
    skip = audit.SKIP_FIELDS.get(Client.__tablename__, set())
    who = audit.actor()
    at = local_now()
    conn.execute(insert(AuditLog.__table__), [{
        "at": at, "action": "insert", "table_name": Client.__tablename__, "row_id": str(pk),
        "changes": json.dumps({k: [None, audit.plain(v)] for k, v in row.items()
                               if v is not None and k not in skip},
                              ensure_ascii=False, default=str),
        **who,
    } for pk, row in zip(ids, rows)])




def sheet_error_message(exc: SheetError) -> str:
    if exc.reason == "too_many":
        return message("too_many", n=MAX_ROWS)
    return message(exc.reason)


def read_upload(file_storage) -> io.BytesIO:
    """The uploaded file in memory, refused beyond ``MAX_BYTES``.

    :raises SheetError: ``too_big``
    """
    data = file_storage.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SheetError("too_big")
    return io.BytesIO(data)


# ---- 意向客户导入 ------------------------------------------------------------------------
#: the lead import's columns: template header → Lead field
LEAD_COLUMNS = [
    ("公司或个人名称", "name"), ("统一社会信用代码", "credit_code"), ("联系人", "contact_name"),
    ("手机", "mobile"), ("微信", "wechat"), ("QQ", "qq"), ("固话", "landline"),
    ("邮箱", "email"), ("客户来源", "source"), ("行业", "industry"), ("地区", "region"),
    ("备注", "note"),
]
LEAD_HEADERS = [header for header, _ in LEAD_COLUMNS]
_LEAD_COLUMN_BY_KEY = {_header_key(header): key for header, key in LEAD_COLUMNS}
LEAD_DUP_IN_FILE = N_("This contact is already used in row %(row)d of the file.")


def lead_template_xlsx() -> bytes:
    """An empty lead list with the template's headers."""
    data, _ = write_xlsx(gettext("Lead import"), LEAD_HEADERS, [])
    return data


def import_leads(stream, user, today: datetime.date, filename: str = "") -> ImportResult:
    """意向客户导入, all rows or none: every row passes the lead's field rules and the
    防撞单 check (against the database and the rows above it in the file); the leads
    are the importer's, each with its 1-3-7 follow-ups.

    :raises SheetError: the file cannot be read as a lead list.
    """
    from .domain import contacts as contact_rules
    from .i18n import field_messages
    from .models import Lead
    from .services import contacts as contact_service
    from .services import sales as sales_service

    header_of = {key: header for header, key in LEAD_COLUMNS}
    errors: list[RowError] = []
    good: list[dict] = []
    seen: dict[tuple, int] = {}
    sources = {name: id_ for id_, name in db.session.execute(
        select(DictItem.id, DictItem.name).where(DictItem.kind == "client_source",
                                                 DictItem.active.is_(True)))}
    count = 0
    with open_sheet(stream) as (headers, rows):
        index: dict[str, int] = {}
        for i, header in enumerate(headers):
            key = _LEAD_COLUMN_BY_KEY.get(_header_key(header)) if header else None
            if key is None:
                continue
            if key in index:
                errors.append(RowError(1, header, message("duplicate_column")))
            index[key] = i
        if "name" not in index:
            raise SheetError("no_header")
        for number, row in rows:
            if row is None or _blank(row):
                continue
            count += 1
            if count > MAX_ROWS:
                raise SheetError("too_many")
            cells = {k: _text(v) for k, v in _cells(index, row).items()}
            row_errors: list[RowError] = []
            source = cells.pop("source", "") or ""
            values = {k: (v if v != "" else None) for k, v in cells.items()}
            if source:
                if source in sources:
                    values["source_id"] = sources[source]
                else:
                    row_errors.append(RowError(number, header_of["source"],
                                               message("source", value=source)))
            cleaned, problems = integrity.check_values(db.session, Lead, values, values)
            for column, texts in field_messages(validation.FieldErrors(problems)).items():
                for text in texts:
                    row_errors.append(RowError(number, header_of.get(column, column), text))
            if not problems:
                try:
                    contact_service.check_lead_values(db.session, cleaned, None,
                                                      getattr(user, "id", None))
                except contact_service.DuplicateContact as exc:
                    for column, texts in field_messages(exc).items():
                        for text in texts:
                            row_errors.append(RowError(number, header_of.get(column, column),
                                                       text))
                keys = contact_rules.keys_of(cleaned)
                for key in sorted(keys):
                    if key in seen and not row_errors:
                        column = contact_rules.COLUMNS[key[0]]
                        row_errors.append(RowError(number, header_of[column], gettext(
                            LEAD_DUP_IN_FILE, row=seen[key])))
                for key in keys:
                    seen.setdefault(key, number)
            if row_errors:
                errors.extend(row_errors)
            else:
                good.append(cleaned)
    if not count:
        raise SheetError("empty")
    result = ImportResult(rows=count, errors=errors)
    if errors:
        return result
    try:
        leads = []
        for values in good:
            lead = Lead(**values)
            sales_service.prepare_new_lead(lead, user, today)
            db.session.add(lead)
            leads.append(lead)
        db.session.flush()  # the field rules and 防撞单 once more, for every row at once
        for lead in leads:
            sales_service.start_cadence(lead, today)
        audit.record(db.session.connection(), "import", Lead.__tablename__,
                     changes={"file": filename, "rows": len(leads)})
        db.session.commit()
    except (validation.FieldErrors, IntegrityError) as exc:
        db.session.rollback()
        text = (next(iter(field_messages(exc).values()))[0]
                if isinstance(exc, validation.FieldErrors) else message("conflict"))
        result.errors = [RowError(0, "", text)]
        return result
    result.created, result.ids = len(leads), [lead.id for lead in leads]
    return result
