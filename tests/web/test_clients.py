"""客户列表 as a user meets it: add, validate, edit, delete-as-status, restore."""
from app.domain.codes import make_uscc

from ..conftest import valid_code


def client_form(**overrides):
    data = {
        "name": "北京瑞丰科技有限公司", "short_name": "瑞丰", "credit_code": valid_code(),
        "legal_rep": "王伟", "legal_rep_phone": "13800138000", "contact_name": "李娜",
        "contact_phone": "010-12345678", "taxpayer_type": "small", "tax_device_type": "none",
        "billing_cycle": "month", "service_fee": "300.00", "billing_state": "billed",
        "status": "active",
    }
    data.update(overrides)
    return data


def test_client_list_is_chinese(admin_client, make_client):
    make_client(name="上海测试贸易有限公司")
    html = admin_client.get("/clients/list/").get_data(as_text=True)
    assert "客户列表" in html
    assert "上海测试贸易有限公司" in html
    assert "公司名称" in html


def test_add_client_with_valid_credit_code(admin_client, app):
    code = valid_code()
    resp = admin_client.post_form("/clients/add", client_form(credit_code=code.lower()))
    assert resp.status_code == 302
    html = admin_client.get("/clients/list/?q=瑞丰").get_data(as_text=True)
    assert code in html  # normalised to upper case


def test_bad_credit_code_shows_chinese_error_next_to_field(admin_client):
    good = valid_code()  # one code: its check digit replaced by another one
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    resp = admin_client.post_form("/clients/add", client_form(credit_code=bad))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "校验" in html
    assert admin_client.get("/clients/list/?q=瑞丰").get_data(as_text=True).count("北京瑞丰科技") == 0


def test_duplicate_credit_code_is_refused(admin_client, make_client):
    code = valid_code()
    make_client(credit_code=code)
    html = admin_client.post_form("/clients/add", client_form(credit_code=code)).get_data(as_text=True)
    assert "已有客户使用" in html


def test_phone_and_dates_are_validated(admin_client):
    html = admin_client.post_form("/clients/add", client_form(
        legal_rep_phone="12345", contract_start="2026-05-01", contract_end="2026-04-01",
    )).get_data(as_text=True)
    assert "手机号" in html
    assert "早于" in html


def test_delete_is_a_status_and_restore_brings_back(admin_client, make_client, app):
    from app.extensions import db
    from app.models import Client

    cid = make_client(name="待删除测试有限公司")
    resp = admin_client.post_form(f"/clients/delete/{cid}")
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Client, cid).status == "deleted"
    assert "待删除测试有限公司" not in admin_client.get("/clients/list/").get_data(as_text=True)
    deleted = admin_client.get("/clients/list/?_flt_0_status=deleted").get_data(as_text=True)
    assert "待删除测试有限公司" in deleted
    admin_client.post_form(f"/clients/action/restore/{cid}")
    with app.app_context():
        assert db.session.get(Client, cid).status == "active"


def test_get_cannot_delete(admin_client, make_client, app):
    from app.extensions import db
    from app.models import Client

    cid = make_client()
    admin_client.get(f"/clients/delete/{cid}")
    with app.app_context():
        assert db.session.get(Client, cid).status == "active"


def test_post_without_csrf_token_is_refused(admin_client, make_client, app):
    from app.extensions import db
    from app.models import Client

    cid = make_client()
    resp = admin_client.post(f"/clients/delete/{cid}")
    assert resp.status_code == 400
    resp = admin_client.post("/clients/action_post", data={"action": "soft_delete", "rowid": [cid]})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.get(Client, cid).status == "active"


def test_quick_search_finds_by_phone_and_code(admin_client, make_client):
    code = make_uscc("91", "310115", "12345678")
    make_client(name="电话搜索测试有限公司", legal_rep_phone="13912345678", credit_code=code)
    make_client(name="无关公司")
    by_phone = admin_client.get("/clients/list/?q=13912345678").get_data(as_text=True)
    assert "电话搜索测试有限公司" in by_phone and "无关公司" not in by_phone
    assert "电话搜索测试有限公司" in admin_client.get(f"/clients/list/?q={code}").get_data(as_text=True)


def test_basic_info_is_read_only_with_copy_button(admin_client, make_client):
    code = valid_code()
    make_client(name="基础信息测试有限公司", credit_code=code)
    html = admin_client.get("/clients-basic/list/").get_data(as_text=True)
    assert f'data-copy="{code}"' in html
    assert admin_client.get("/clients-basic/add").status_code == 404
