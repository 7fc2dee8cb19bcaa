"""Attachments of service requests: only PDF/JPG/PNG/xlsx whose content matches,
within the size limit, stored under instance/ by a random name, served only to
those who may see the request; path tricks in names are harmless."""
import io
import os

import pytest

from ..conftest import WebClient
from ..security.test_portal import add_portal_user
from ..unit.test_attachments import PDF, PNG

ATTACHED = "附件"


@pytest.fixture
def files(app, make_user, make_client, client):
    from app.extensions import db
    from app.models import ServiceItem

    acct = make_user("Accountant")
    other = make_user("Accountant")
    mine = make_client(name="附件甲有限公司", bookkeeper=acct)
    theirs = make_client(name="附件乙有限公司", bookkeeper=other)
    with app.app_context():
        item = db.session.query(ServiceItem).order_by(ServiceItem.id).first().id
    boss = add_portal_user(app, [mine])
    their_boss = add_portal_user(app, [theirs])
    client.login(boss)
    return type("F", (), {"acct": acct, "other": other, "mine": mine, "theirs": theirs,
                          "item": item, "boss": boss, "their_boss": their_boss,
                          "portal": client})


def upload(web, client_id, item, name, content, title="带附件的请求"):
    return web.post_form(f"/portal/{client_id}/requests/",
                         {"item_id": str(item), "title": title, "urgency": "normal",
                          "files": (io.BytesIO(content), name)},
                         content_type="multipart/form-data")


def rows(app, **where):
    from app.extensions import db
    from app.models import ServiceAttachment, ServiceRequest

    with app.app_context():
        out = [(a.id, a.request_id, a.name, a.stored_name, a.kind)
               for a in db.session.query(ServiceAttachment).filter_by(**where).all()]
        reqs = {r.title: r.id for r in db.session.query(ServiceRequest).all()}
        return out, reqs


def test_a_pdf_is_stored_under_a_random_name_and_served_to_client_and_staff(app, files):
    resp = upload(files.portal, files.mine, files.item, "../../营业执照.pdf", PDF)
    assert resp.status_code == 302
    (fid, rid, name, stored, kind), = rows(app)[0]
    assert os.path.commonpath([os.path.realpath(os.path.join(
        app.config["AGENCYDESK_ATTACHMENT_DIR"], stored)),
        os.path.realpath(app.config["AGENCYDESK_ATTACHMENT_DIR"])]) == os.path.realpath(
        app.config["AGENCYDESK_ATTACHMENT_DIR"])
    assert (name, kind) == ("营业执照.pdf", "pdf")
    assert "营业执照" not in stored and len(stored) >= 32
    path = os.path.join(app.config["AGENCYDESK_ATTACHMENT_DIR"], stored)
    assert os.path.isfile(path) and open(path, "rb").read() == PDF
    got = files.portal.get(f"/portal/{files.mine}/requests/{rid}/files/{fid}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment")
    page = files.portal.get(f"/portal/{files.mine}/requests/{rid}").get_data(as_text=True)
    assert "营业执照.pdf" in page
    staff = WebClient(app.test_client())
    staff.login(files.acct)
    assert staff.get(f"/service-requests/file/{rid}/{fid}").data == PDF
    # the other accountant, and the other client: 404
    staff.login(files.other)
    assert staff.get(f"/service-requests/file/{rid}/{fid}").status_code == 404
    other = WebClient(app.test_client())
    other.login(files.their_boss)
    assert other.get(f"/portal/{files.mine}/requests/{rid}/files/{fid}").status_code == 404
    assert other.get(f"/portal/{files.theirs}/requests/{rid}/files/{fid}").status_code == 404


def test_a_file_is_found_only_under_its_own_request(app, files):
    upload(files.portal, files.mine, files.item, "a.pdf", PDF, title="请求一")
    r2 = upload(files.portal, files.mine, files.item, "b.png", PNG, title="请求二")
    assert r2.status_code == 302, r2.get_data(as_text=True)[-1500:]
    found, reqs = rows(app)
    by_name = {name: (fid, rid) for fid, rid, name, _, _ in found}
    fid_b = by_name["b.png"][0]
    assert files.portal.get(
        f"/portal/{files.mine}/requests/{reqs['请求一']}/files/{fid_b}").status_code == 404


@pytest.mark.parametrize("name, content", [
    ("病毒.exe", b"MZ\x90\x00" * 10), ("伪装.pdf", b"MZ\x90\x00" * 10),
    ("网页.png", b"<html><script>alert(1)</script></html>"), ("空.pdf", b"")])
def test_wrong_kinds_are_refused_and_nothing_is_saved(app, files, name, content):
    folder = app.config["AGENCYDESK_ATTACHMENT_DIR"]
    before = set(os.listdir(folder))
    resp = upload(files.portal, files.mine, files.item, name, content, title="坏附件请求")
    assert resp.status_code == 422
    assert "PDF" in resp.get_data(as_text=True) or "空" in resp.get_data(as_text=True)
    found, reqs = rows(app)
    assert found == [] and "坏附件请求" not in reqs   # all or nothing
    assert set(os.listdir(folder)) == before


def test_a_file_over_the_limit_is_refused(app, files):
    kept = app.config["AGENCYDESK_ATTACHMENT_MAX_MB"]
    app.config["AGENCYDESK_ATTACHMENT_MAX_MB"] = 0.001   # about 1 KB
    try:
        resp = upload(files.portal, files.mine, files.item, "大.pdf", PDF + b"0" * 5000)
    finally:
        app.config["AGENCYDESK_ATTACHMENT_MAX_MB"] = kept
    assert resp.status_code == 422 and "MB" in resp.get_data(as_text=True)
    assert rows(app)[0] == []


def test_staff_attach_on_the_request_page_with_the_same_checks(app, files):
    upload(files.portal, files.mine, files.item, "a.pdf", PDF, title="员工附件请求")
    rid = rows(app)[1]["员工附件请求"]
    staff = WebClient(app.test_client())
    staff.login(files.acct)
    staff.post_form(f"/service-requests/attach/{rid}",
                    {"file": (io.BytesIO(b"MZ" * 8), "x.pdf")}, content_type="multipart/form-data")
    staff.post_form(f"/service-requests/attach/{rid}",
                    {"file": (io.BytesIO(PNG), "回执.png")}, content_type="multipart/form-data")
    assert sorted(n for _, _, n, _, _ in rows(app)[0]) == ["a.pdf", "回执.png"]
    staff.login(files.other)
    resp = staff.post_form(f"/service-requests/attach/{rid}",
                           {"file": (io.BytesIO(PNG), "越权.png")},
                           content_type="multipart/form-data")
    assert resp.status_code == 404
