"""Firm-wide settings stored as key/value rows (read through ``app.data.config_cache``:
each worker keeps what it read until a setting, or other configuration, changes)."""
from __future__ import annotations

from sqlalchemy import select

from ..data import config_cache
from ..extensions import db
from ..models import Setting

COMPANY_DEFAULTS = {"company_name": "", "company_link": ""}


def get(key: str, default: str = "") -> str:
    """The setting's value (``default`` when unset); kept per config token."""
    value = config_cache.cached("setting", lambda: db.session.execute(
        select(Setting.value).where(Setting.key == key)).scalar(), key)
    return default if value is None else value


def put(key: str, value: str) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def company() -> dict:
    def load() -> tuple:
        rows = db.session.execute(select(Setting.key, Setting.value)
                                  .where(Setting.key.in_(COMPANY_DEFAULTS))).all()
        return tuple((k, v) for k, v in rows)

    values = dict(COMPANY_DEFAULTS)
    values.update(config_cache.cached("company", load))
    return values


def save_company(name: str, link: str) -> None:
    put("company_name", name)
    put("company_link", link)
    db.session.commit()
