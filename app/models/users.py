"""Staff: FAB's user row with the fields an agency needs.

FAB's documented way to extend its user is a subclass mapped on the same ``ab_user``
table (FAB's ``Model`` sets ``extend_existing``); the security manager's
``user_model`` points here, so logins, the user admin and ``g.user`` are all Staff.
"""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class Staff(User):
    __tablename__ = "ab_user"
    __table_args__ = {"extend_existing": True}

    phone = Column(String(32))
    # 上级: the user's direct superior; visibility of subordinates' clients follows it.
    superior_id = Column(Integer, ForeignKey("ab_user.id", name="fk_ab_user_superior"), index=True)
    # 仅限分配的客户: turns off group and subordinate visibility for this user.
    assigned_only = Column(Boolean, nullable=False, default=False, server_default="0")

    # Set after too many failed logins; only an Admin clears it (logged).
    locked_at = Column(DateTime)
    # Sessions and tokens carry the version they were issued at; logout, a password
    # change and a lockout add one, ending them all (app.security.sessions).
    session_version = Column(Integer, nullable=False, default=0, server_default="0")

    superior = relationship(
        "Staff",
        remote_side="Staff.id",
        primaryjoin="Staff.superior_id == Staff.id",
        foreign_keys="Staff.superior_id",
    )

    @property
    def is_active(self):
        # A locked account can neither log in nor keep using an open session.
        return bool(self.active) and self.locked_at is None

    def get_full_name(self) -> str:
        return display_name(self.first_name, self.last_name)

    def __repr__(self) -> str:
        return self.get_full_name()

    __str__ = __repr__


def display_name(first_name: str | None, last_name: str | None) -> str:
    """Chinese names read family name first with no space (王小明); others "First Last"."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _accept_staff_in_fab_relationships() -> None:
    # FAB's relationships that point at its User (Group.users, the created_by /
    # changed_by links) type-check their members against User, and Staff is mapped
    # as a non-polymorphic subclass on the same table: every member is a Staff, so
    # the check is switched off for them.
    from flask_appbuilder.security.sqla.models import Group
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    for attr in (Group.users, User.created_by, User.changed_by, Staff.superior):
        prop = attr.property
        prop.enable_typechecks = False
        for dep in (getattr(prop, "_dependency_processor", None),):
            if dep is not None:
                dep.enable_typechecks = False


_accept_staff_in_fab_relationships()
