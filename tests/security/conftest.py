import pytest


@pytest.fixture
def world(app, make_user, make_client):
    """Two accountants, each with one client; a field agent on A's client."""
    a = make_user("Accountant")
    b = make_user("Accountant")
    agent = make_user("FieldAgent")
    mine = make_client(name="甲方自己的客户有限公司", bookkeeper=a, field_agent=agent)
    other = make_client(name="乙方别人的客户有限公司", bookkeeper=b)
    return type("World", (), {"a": a, "b": b, "agent": agent, "mine": mine, "other": other})
