"""The lean list rendering (app/views/widgets.py) keeps what the page shows current:
the search form's choices are reused between requests, but a new choice written in
this process shows at once."""
from __future__ import annotations


def test_a_new_client_source_shows_in_the_search_filter_at_once(app, admin_client):
    from app.extensions import db
    from app.models import DictItem

    admin_client.get("/clients/list/")  # the search widget's choices are now kept
    with app.app_context():
        db.session.add(DictItem(kind="client_source", name="缓存失效测试来源", active=True,
                                sort_order=99))
        db.session.commit()
    try:
        html = admin_client.get("/clients/list/").get_data(as_text=True)
        # the filter fields travel as JSON (non-ASCII as \\u escapes)
        assert "缓存失效测试来源".encode("unicode_escape").decode() in html
    finally:
        with app.app_context():
            db.session.query(DictItem).filter_by(name="缓存失效测试来源").delete()
            db.session.commit()


def test_list_cells_render_blank_yes_no_and_lists(app):
    import datetime

    from app.views.widgets import render_value

    with app.test_request_context("/"):
        assert render_value(None) == ""
        assert render_value(True) == "是" and render_value(False) == "否"
        assert render_value(["甲", "<b>"]) == "甲、&lt;b&gt;"
        assert render_value(datetime.datetime(2026, 1, 31, 9, 30, 0, 5)) == "2026-01-31 09:30:00"
        assert render_value(datetime.date(2026, 1, 31)) == "2026-01-31"
        assert render_value("<script>") == "&lt;script&gt;"
