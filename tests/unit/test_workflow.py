"""The workflow declarations: who may fire which step from which state (pure)."""
from app.domain import workflows
from app.domain.workflow import NOW


def test_the_author_may_not_approve_his_own_document_unless_the_firm_allows_it():
    step = workflows.JOURNAL.transition("approve")
    assert workflows.JOURNAL.refusal(step, "pending", 7, 7, allow_self=False) == "own"
    assert workflows.JOURNAL.refusal(step, "pending", 7, 7, allow_self=True) is None
    assert workflows.JOURNAL.refusal(step, "pending", 7, 8, allow_self=False) is None


def test_a_step_only_starts_from_its_states():
    wf = workflows.INVOICE
    assert wf.refusal(wf.transition("issue"), "applied", 1, 2, False) == "state"
    assert wf.refusal(wf.transition("void"), "void", 1, 2, False) == "state"
    assert wf.refusal(wf.transition("approve"), "approved", 1, 2, False) == "state"


def test_locked_states():
    assert workflows.JOURNAL.is_locked("approved") and not workflows.JOURNAL.is_locked("pending")
    assert all(workflows.INVOICE.is_locked(s) for s in ("approved", "issued", "void"))
    assert not workflows.INVOICE.is_locked("applied")


def test_stamps_name_who_and_when_and_clear_on_unlock():
    wf = workflows.JOURNAL
    assert wf.stamps(wf.transition("approve"), 5, NOW) == {"approved_by_id": 5,
                                                           "approved_at": NOW}
    assert wf.stamps(wf.transition("unlock"), 5, NOW) == {"approved_by_id": None,
                                                          "approved_at": None}


def test_every_workflow_state_and_step_target_is_a_declared_state():
    for wf in workflows.BY_TABLE.values():
        assert wf.initial in wf.states
        for step in wf.transitions:
            assert step.target in wf.states
            assert set(step.sources) <= set(wf.states)
            assert step.permission.startswith("can_")
