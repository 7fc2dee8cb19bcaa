"""字段可见性: which fields of a model a user may not see.

A field is hidden from a user when every one of his roles hides it (roles grant,
as FAB permissions do: one role that shows the field is enough). Hidden fields are
left out of lists, show pages, forms (a posted value is ignored), exports, API
responses and searches. Read once per set of roles and kept by each worker until the
config token changes (``app.data.config_cache``).
"""
from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import select

from ..data import config_cache
from ..models import HiddenField

#: fields an Admin may hide, per model (label keys are the views' label_columns)
HIDEABLE = {
    "client": ["legal_rep", "legal_rep_phone", "contact_name", "contact_phone",
               "credit_code", "service_fee", "next_fee_date", "billing_cycle",
               "billing_state", "registered_address", "business_address",
               "tax_device_no", "contract_start", "contract_end", "note"],
}
# A field shown under another name in lists (next_fee shows next_fee_date).
ALIASES = {"client": {"next_fee": "next_fee_date"}}


def hidden_fields(user, model: str, session) -> frozenset[str]:
    """Field names of ``model`` hidden from ``user`` (empty for the system). The
    rules of every model for his roles are read in one statement per request (the
    client page asks for ten models)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return _hidden_by_model(user, session).get(model, frozenset())


def _hidden_by_model(user, session) -> dict[str, frozenset]:
    key = ("_hidden_fields", getattr(user, "id", None))
    if has_request_context():
        cache = g.setdefault("_hidden_fields_cache", {})
        if key in cache:
            return cache[key]
    role_ids = frozenset({r.id for r in user.roles} | {
        r.id for group in getattr(user, "groups", []) for r in group.roles})
    found = config_cache.cached("hidden_fields", lambda: _read_hidden(role_ids, session),
                                role_ids, session=session)
    if has_request_context():
        g._hidden_fields_cache[key] = found
    return found


def _read_hidden(role_ids: frozenset, session) -> dict[str, frozenset]:
    """Per model, the fields every one of ``role_ids`` hides."""
    found: dict[str, frozenset] = {}
    if role_ids:
        rows = session.execute(select(HiddenField.model, HiddenField.role_id, HiddenField.field)
                               .where(HiddenField.role_id.in_(role_ids))).all()
        per_model: dict[str, dict[int, set[str]]] = {}
        for model, rid, field in rows:
            per_model.setdefault(model, {r: set() for r in role_ids})[rid].add(field)
        for model, per_role in per_model.items():
            hidden = frozenset(set.intersection(*per_role.values()))
            aliases = ALIASES.get(model, {})
            found[model] = hidden | {alias for alias, real in aliases.items()
                                     if real in hidden}
    return found
