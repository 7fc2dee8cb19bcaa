"""A document's lifecycle as a declaration (Frappe's Workflow table; Odoo's tier
validation for "never the author"): its states, and for each transition the
states it starts from, the state it leads to, the permission that fires it,
whether its author may, whether it needs a reason or typed values, which columns
it stamps with who and when, and which states lock the document against edits.

Pure data and pure checks; ``app.services.transitions`` applies a transition to
scoped rows (compare-and-set on the version the user saw, audit row, one commit),
and the screens' actions, the REST API (``POST /api/v1/<resource>/<id>/<name>``),
the lock checks and the "waiting for me" cards all read the same declaration.
A new approval step is a :class:`Transition` here and a column.
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: stamp values: the acting user's id, the time of the transition, or cleared
BY = "by"
NOW = "now"
CLEAR = None


@dataclass(frozen=True)
class Transition:
    """One step. ``permission`` is checked on the workflow's ``permission_view``
    (the screen's permission name: one grant covers the screen and the API).

    :param inputs: columns the user types for this step (``invoice_number``), checked
        by the columns' field rules and required.
    :param needs_reason: a reason is required; it goes to the audit row, and to
        ``reason_column`` when the document keeps it.
    :param stamp: column → :data:`BY`, :data:`NOW` or :data:`CLEAR`.
    :param inbox: the step waits for someone: the home page counts the rows in its
        starting states that the user may move on (a card labelled ``inbox_label``).
    """

    name: str
    label: str
    sources: tuple
    target: str
    permission: str
    confirm: str = ""
    icon: str = "fa-check"
    not_by_author: bool = False
    needs_reason: bool = False
    reason_column: str | None = None
    inputs: tuple = ()
    stamp: dict = field(default_factory=dict)
    audit_action: str = "update"
    inbox: bool = False
    inbox_label: str = ""
    multiple: bool = True

    @property
    def needs_form(self) -> bool:
        """Whether the step asks for something before it runs (one row at a time)."""
        return self.needs_reason or bool(self.inputs)


@dataclass(frozen=True)
class Workflow:
    """A document's states and transitions.

    :param label: what one document is called in messages ("journal entry").
    :param initial: the state a new document starts in.
    :param locked_in: states in which the document cannot be edited or deleted.
    :param permission_view: the view name whose grants fire the transitions.
    """

    label: str
    states: dict
    initial: str
    transitions: tuple
    locked_in: frozenset
    permission_view: str
    status_column: str = "status"
    author_column: str = "created_by_id"
    version_column: str = "version"

    def transition(self, name: str) -> Transition:
        """:raises KeyError: no such transition."""
        for step in self.transitions:
            if step.name == name:
                return step
        raise KeyError(name)

    def names(self) -> list[str]:
        return [step.name for step in self.transitions]

    def is_locked(self, status) -> bool:
        return status in self.locked_in

    def refusal(self, step: Transition, status, author_id, actor_id, allow_self: bool):
        """Why ``actor_id`` may not fire ``step`` on a document in ``status`` made by
        ``author_id``: ``"state"`` (it does not start from there), ``"own"`` (the author
        may not, and the firm does not allow it), or None (he may)."""
        if status not in step.sources:
            return "state"
        if step.not_by_author and not allow_self and author_id is not None \
                and author_id == actor_id:
            return "own"
        return None

    def stamps(self, step: Transition, by_id, now) -> dict:
        values = {}
        for column, what in step.stamp.items():
            values[column] = by_id if what == BY else now if what == NOW else None
        return values
