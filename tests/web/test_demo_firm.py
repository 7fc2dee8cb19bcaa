"""A demo firm that looks real: after `flask demo load`, every page of the menu opens
(200) and no list of it is empty — journal, invoices, contracts, addresses, todos,
obligation history and client logins included."""
from __future__ import annotations

import re

from ..conftest import PASSWORD

#: lists that are empty in a fresh firm, and why
EMPTY_BY_NATURE = {
    "/hidden-fields/": "no field is hidden until an Admin hides one",
    "/announced-deadlines/": "no announced deadline differs from the computed one",
    "/job-runs/": "the scheduler has not run yet",
}


def test_every_menu_page_has_data_after_demo_load(app, client):
    from app import clock
    from app.extensions import db
    from app.services.demo import load_demo
    from app.services.demo_firm import fill
    from app.services.obligations import sync_obligations

    with app.app_context():
        load_demo(n_clients=200, n_staff=12, password=PASSWORD, seed=7)
        sync_obligations(clock.today(), clock.tz_name())
        made = fill(seed=7)
        again = fill(seed=7)
        db.session.remove()
    for module in ("contracts", "addresses", "journal entries", "invoices", "todos",
                   "obligation history", "client logins"):
        assert made.rows.get(module), (module, made.rows)
    assert not any(again.rows.values())  # a second load adds nothing twice

    client.login("admin")
    home = client.get("/").get_data(as_text=True)
    links = sorted(set(re.findall(r'<a tabindex="-1" href="(/[^"#]*)"', home)) - {"/lang/en", "/lang/zh"})
    assert len(links) > 15, links
    empty, failed = [], []
    for url in links:
        resp = client.get(url)
        if resp.status_code != 200:
            failed.append((url, resp.status_code))
            continue
        if "没有找到记录" in resp.get_data(as_text=True) and \
                not any(url.startswith(p) for p in EMPTY_BY_NATURE):
            empty.append(url)
    assert not failed, failed
    assert not empty, f"empty after demo load: {empty}"
