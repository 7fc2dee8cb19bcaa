"""Firm-wide settings stored as key/value rows."""
from __future__ import annotations

from ..extensions import db
from ..models import Setting

COMPANY_DEFAULTS = {"company_name": "", "company_link": ""}


def get(key: str, default: str = "") -> str:
    row = db.session.get(Setting, key)
    return row.value if row else default


def put(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def company() -> dict:
    rows = db.session.query(Setting).filter(Setting.key.in_(COMPANY_DEFAULTS)).all()
    values = dict(COMPANY_DEFAULTS)
    values.update({r.key: r.value for r in rows})
    return values


def save_company(name: str, link: str) -> None:
    put("company_name", name)
    put("company_link", link)
    db.session.commit()
