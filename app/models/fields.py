"""字段可见性: fields of a model hidden from a role."""
from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import relationship


class HiddenField(Model):
    __tablename__ = "hidden_field"
    __table_args__ = (UniqueConstraint("role_id", "model", "field", name="uq_hidden_field"),)

    id = Column(Integer, primary_key=True)
    role_id = Column(Integer, ForeignKey("ab_role.id", ondelete="CASCADE"), nullable=False)
    model = Column(String(64), nullable=False, default="client")
    field = Column(String(64), nullable=False)

    role = relationship("Role")

    def __repr__(self) -> str:
        return f"{self.model}.{self.field}"
