"""``flask demo load``: realistic Chinese demo data, written in bulk.

Clients are inserted with executemany in chunks (no per-row ORM objects), so
100,000 clients take seconds. Staff accounts are created once (re-running keeps
them and resets their password); clients are appended.
"""
from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from ..domain.codes import USCC_ALPHABET, make_uscc
from ..data import textsearch
from ..extensions import db
from ..models import Client, ClientGroup, DictItem, Staff
from .. import clock

CITIES = [("北京", "110105"), ("上海", "310115"), ("深圳", "440305"), ("杭州", "330106"),
          ("成都", "510107"), ("南京", "320106"), ("武汉", "420106"), ("西安", "610113"),
          ("广州", "440106"), ("苏州", "320505"), ("天津", "120116"), ("重庆", "500112")]
TRADE_CHARS = "瑞丰恒达鑫源华盛宏图金泰嘉禾永兴博远天诚创新卓越汇通明德启航信达聚宝安康顺捷中和海川志远腾飞锦程润泽"
INDUSTRIES = ["科技", "商贸", "餐饮管理", "建筑工程", "文化传媒", "信息技术", "物流", "电子商务",
              "教育咨询", "环保科技", "装饰工程", "医疗器械", "食品", "服装", "广告", "网络科技",
              "企业管理咨询", "机械设备", "新能源", "农业发展"]
SUFFIXES = ["有限公司", "有限公司", "有限公司", "有限责任公司", "工作室", "商行"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强晓东海燕雪梅红梅玉兰俊杰子涵雨轩浩然欣怡思远"
ROADS = ["建国路", "中山路", "人民路", "解放路", "长江路", "科技园路", "创业大道", "学府路", "滨江大道", "高新路"]
ORG_CHARS = USCC_ALPHABET.replace("Y", "")  # any of the alphabet works; keep it readable


@dataclass
class DemoResult:
    clients: int = 0
    staff: int = 0
    admin_password: str = ""
    sample_users: list = field(default_factory=list)


def _person(rng: random.Random) -> tuple[str, str]:
    """(family name, given name)."""
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES), given


def _mobile(rng: random.Random) -> str:
    return rng.choice(["13", "15", "17", "18", "19"]) + "".join(rng.choices("0123456789", k=9))


STAFF_PLAN = [("Manager", "manager", 0.08), ("Finance", "finance", 0.06),
              ("Sales", "sales", 0.1), ("FieldAgent", "field", 0.2)]  # the rest: Accountant


def _ensure_staff(sm, n_staff: int, password_hash: str, rng: random.Random) -> list[Staff]:
    roles = {name: sm.find_role(name) for name in
             ("Admin", "Manager", "Accountant", "FieldAgent", "Finance", "Sales")}
    missing = [k for k, v in roles.items() if v is None]
    if missing:
        raise RuntimeError("roles missing, run `flask init` first: " + ", ".join(missing))
    plan = []
    for role, prefix, share in STAFF_PLAN:
        plan += [(role, prefix)] * max(1, round(n_staff * share))
    plan += [("Accountant", "acct")] * max(1, n_staff - len(plan))
    counters: dict[str, int] = {}
    staff = []
    managers = []
    for role, prefix in plan[:max(n_staff, 5)]:
        counters[prefix] = counters.get(prefix, 0) + 1
        username = f"{prefix}{counters[prefix]:02d}"
        user = db.session.execute(select(Staff).where(Staff.username == username)).scalar()
        if user is None:
            family, given = _person(rng)
            user = Staff(username=username, first_name=given, last_name=family,
                         email=f"{username}@demo.agencydesk.cn", phone=_mobile(rng),
                         active=True, roles=[roles[role]])
            db.session.add(user)
        user.password = password_hash
        if role == "Manager":
            managers.append(user)
        elif managers:
            user.superior = managers[len(staff) % len(managers)]
        staff.append(user)
    db.session.flush()
    return staff


#: clients per INSERT and per commit: memory stays flat whatever the total (a million
#: clients load in a few minutes on SQLite and PostgreSQL)
CHUNK = 5000


def _insert_chunk(chunk: list[dict], rng: random.Random) -> int:
    """Insert a chunk of clients and commit. Credit codes are random: the few that
    repeat one already stored (or one earlier in the chunk) are drawn again, checked
    against the unique index chunk by chunk rather than against a set of every code
    (which grows with the table)."""
    while True:
        codes = [row["credit_code"] for row in chunk]
        clash = set(db.session.execute(
            select(Client.credit_code).where(Client.credit_code.in_(codes))).scalars())
        seen: set[str] = set()
        redo = False
        for row in chunk:
            code = row["credit_code"]
            if code in clash or code in seen:
                region = code[2:8]
                row["credit_code"] = make_uscc("91", region, "".join(rng.choices(ORG_CHARS, k=8)))
                redo = True
            seen.add(row["credit_code"])
        if not redo:
            break
    with textsearch.bulk_insert(db.session, Client):
        db.session.execute(insert(Client), chunk)
    db.session.commit()
    return len(chunk)


def _demo_sales(staff, rng: random.Random, today: datetime.date, n_leads: int) -> None:
    """Leads of the demo salespeople (with a contact, their 1-3-7 follow-ups, some
    done), a few in the pool, and a sales contract waiting for approval — so the
    销售 screens are not empty. Mobiles start with 166, which no demo client has."""
    from ..models import BusinessType, Contact, FollowUp, Lead, SalesContract, SalesContractLine
    from . import sales

    sellers = [s for s in staff if any(r.name == "Sales" for r in s.roles)]
    if not sellers:
        return
    base = db.session.execute(select(func.count(Lead.id))).scalar() or 0
    sources = list(db.session.execute(select(DictItem.id).where(
        DictItem.kind == "client_source")).scalars())
    types = list(db.session.execute(select(BusinessType)).scalars())
    leads = []
    for i in range(n_leads):
        number = base + i
        family, given = _person(rng)
        city, _ = rng.choice(CITIES)
        industry = rng.choice(INDUSTRIES)
        owner = sellers[i % len(sellers)]
        entered = today - datetime.timedelta(days=rng.randint(0, 40))
        lead = Lead(name=f"{family}总（{city}{industry}）", contact_name=f"{family}总",
                    mobile=f"166{number:08d}", wechat=f"demo_wx_{number}",
                    industry=industry, region=city,
                    source_id=rng.choice(sources) if sources else None,
                    need_company_name=f"{city}{rng.choice(TRADE_CHARS)}{rng.choice(TRADE_CHARS)}"
                                      f"{industry}有限公司",
                    need_bookkeeping=rng.choice(["新公司需要代理记账", "已有会计，想更换", "暂不需要"]),
                    owner_id=owner.id, stage="new", assigned_on=entered,
                    business_types=rng.sample(types, k=min(2, len(types))) if types else [])
        if i % 10 == 9:
            lead.stage, lead.owner_id, lead.pool_on = "pool", None, today
        db.session.add(lead)
        leads.append((lead, entered))
    db.session.flush()
    for lead, entered in leads:
        db.session.add(Contact(lead_id=lead.id, name=f"{lead.contact_name}的出纳", role="出纳",
                               qq=str(100000 + lead.id)))
        for day, due in zip(sales.cadence(), sales.rules.cadence_dates(entered, sales.cadence())):
            done = due <= today and rng.random() < 0.6
            db.session.add(FollowUp(lead_id=lead.id, due_date=due, cadence_day=day,
                                    way=rng.choice(["phone", "wechat", "visit"]),
                                    done_on=due if done else None,
                                    done_at=datetime.datetime.combine(due, datetime.time(10))
                                    if done else None, done_by_id=lead.owner_id if done else None,
                                    content="介绍了代理记账服务和报价" if done else None))
            if done and lead.stage == "new":
                lead.stage, lead.last_follow_up_on = "following", due
    won = [lead for lead, _ in leads if lead.stage == "following"][:3]
    for k, lead in enumerate(won):
        contract = SalesContract(lead_id=lead.id, number=f"XS-DEMO-{lead.id}",
                                 sign_date=today, start_date=today,
                                 end_date=today + datetime.timedelta(days=364),
                                 first_fee_date=today, status="pending" if k else "draft",
                                 created_by_id=lead.owner_id)
        db.session.add(contract)
        db.session.flush()
        total = Decimal("0.00")
        for btype in types[:2]:
            qty = 12 if btype.cycle == "month" else 1
            amount = sales.rules.line_amount(btype.unit_price, qty, Decimal("0"))
            db.session.add(SalesContractLine(contract_id=contract.id, business_type_id=btype.id,
                                             unit_price=btype.unit_price, cycle=btype.cycle,
                                             quantity=qty, discount=Decimal("0.00"),
                                             amount=amount))
            total += amount
        contract.total = total
    db.session.flush()


def load_demo(n_clients: int, n_staff: int, password: str | None = None,
              seed: int = 20261123) -> DemoResult:
    """Create demo staff (idempotent) and append ``n_clients`` demo clients."""
    from flask import current_app

    rng = random.Random(seed + db.session.execute(select(func.count(Client.id))).scalar())
    sm = current_app.appbuilder.sm
    password = password or secrets.token_urlsafe(9)
    password_hash = generate_password_hash(password)  # hashed once, shared by demo users

    admin = db.session.execute(select(Staff).where(Staff.username == "admin")).scalar()
    if admin is None:
        admin = Staff(username="admin", first_name="管理员", last_name="系统",
                      email="admin@demo.agencydesk.cn", active=True,
                      roles=[sm.find_role(sm.auth_role_admin)])
        db.session.add(admin)
    admin.password = password_hash
    staff = _ensure_staff(sm, n_staff, password_hash, rng)
    accountants = [s for s in staff if any(r.name == "Accountant" for r in s.roles)]
    agents = [s for s in staff if any(r.name == "FieldAgent" for r in s.roles)] or accountants

    groups = []
    for i, (city, _) in enumerate(CITIES[:4]):
        name = f"{city}客户组"
        group = db.session.execute(select(ClientGroup).where(ClientGroup.name == name)).scalar()
        if group is None:
            group = ClientGroup(name=name)
            db.session.add(group)
        groups.append(group)
    db.session.flush()
    source_ids = db.session.execute(
        select(DictItem.id).where(DictItem.kind == "client_source")).scalars().all() or [None]

    today = datetime.date.today()
    acct_ids = [a.id for a in accountants]
    agent_ids = [a.id for a in agents]
    group_ids = [g.id for g in groups]
    fees = [Decimal(v) for v in ("200.00", "300.00", "400.00", "500.00", "800.00", "1200.00")]
    cycles = ["month", "month", "quarter", "quarter", "half_year", "year"]
    statuses = ["active"] * 85 + ["license_only"] * 5 + ["stopped"] * 5 + ["cancelled"] * 3 + ["deleted"] * 2

    with textsearch.bulk_load(db.session, Client):
        written = _load_clients(n_clients, rng, today, source_ids, acct_ids, agent_ids,
                                group_ids, fees, cycles, statuses)
    from .contacts import index_clients

    # 防撞单: the new clients' credit codes and phones in the contact-key index
    first_new = db.session.execute(select(func.max(Client.id))).scalar() or 0
    index_clients(db.session.connection(),
                  range(max(first_new - written + 1, 1), first_new + 1))
    _demo_sales(staff, rng, today, max(10, min(200, written // 20)))
    db.session.commit()
    return DemoResult(clients=written, staff=len(staff), admin_password=password,
                      sample_users=[s.username for s in staff[:6]])


def _load_clients(n_clients, rng, today, source_ids, acct_ids, agent_ids, group_ids, fees,
                  cycles, statuses) -> int:
    """Append ``n_clients`` generated clients in committed chunks; their number."""
    chunk: list[dict] = []
    written = 0
    now = clock.local_now()
    for _ in range(n_clients):
        city, region = rng.choice(CITIES)
        trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
        industry = rng.choice(INDUSTRIES)
        code = make_uscc("91", region, "".join(rng.choices(ORG_CHARS, k=8)))
        family, given = _person(rng)
        c_family, c_given = _person(rng)
        start = today - datetime.timedelta(days=rng.randint(0, 900))
        billing = rng.choices(["billed", "free", "stopped"], weights=[92, 4, 4])[0]
        address = f"{city}市{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}层"
        device = rng.choice(["none", "none", "golden_tax", "tax_control", "ukey", "ukey"])
        chunk.append({
            "name": f"{city}{trade}{industry}{rng.choice(SUFFIXES)}",
            "short_name": f"{trade}{industry[:2]}",
            "credit_code": code,
            "legal_rep": family + given,
            "legal_rep_phone": _mobile(rng),
            "contact_name": c_family + c_given,
            "contact_phone": _mobile(rng),
            "source_id": rng.choice(source_ids),
            "taxpayer_type": rng.choices(["small", "general"], weights=[80, 20])[0],
            "tax_device_type": device,
            "tax_device_no": None if device == "none" else "".join(rng.choices("0123456789", k=12)),
            "tax_device_custody": device != "none" and rng.random() < 0.4,
            "provides_address": rng.random() < 0.15,
            "registered_address": address,
            "business_address": address,
            "onsite_bookkeeping": rng.random() < 0.1,
            "ticket_pickup": rng.choices(["none", "month", "quarter"], weights=[80, 12, 8])[0],
            "bookkeeper_id": rng.choice(acct_ids),
            "field_agent_id": rng.choice(agent_ids),
            "client_group_id": rng.choice(group_ids),
            "billing_cycle": rng.choice(cycles),
            "service_fee": rng.choice(fees),
            "billing_state": billing,
            "next_fee_date": (today + datetime.timedelta(days=rng.randint(-60, 120))) if billing == "billed" else None,
            "contract_start": start,
            "contract_end": start + datetime.timedelta(days=365),
            "status": rng.choice(statuses),
            "note": None,
            "created_on": now,
            "changed_on": now,
        })
        if len(chunk) >= CHUNK:
            written += _insert_chunk(chunk, rng)
            chunk = []
    if chunk:
        written += _insert_chunk(chunk, rng)
    db.session.commit()
    return written
