"""Dictionaries (客户来源, 日记账分类, 收支方式, 税种) and firm-wide settings."""
from flask_appbuilder import Model
from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Text, UniqueConstraint


class DictItem(Model):
    """One entry of an admin-editable dictionary; ``kind`` says which dictionary."""

    __tablename__ = "dict_item"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_dict_item_kind_name"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(32), nullable=False, index=True)
    name = Column(String(64), nullable=False)
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")
    active = Column(Boolean, nullable=False, default=True, server_default="1")

    def __repr__(self) -> str:
        return self.name


class Setting(Model):
    """A firm-wide setting: company name, company link, and later module switches."""

    __tablename__ = "setting"

    key = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False, default="")

    def __repr__(self) -> str:
        return f"{self.key}={self.value}"


class ConfigVersion(Model):
    """One row (id 1): ``token`` takes a new random value, by triggers, with every
    change to the tables that configure a page (migration c7f2a9e4d1b3); each worker
    keeps what it read of them per token (``app.data.config_cache``)."""

    __tablename__ = "config_version"

    id = Column(Integer, primary_key=True, autoincrement=False)
    token = Column(BigInteger, nullable=False)
