"""Fixed code lists. Codes are stored; labels are English msgids translated at the edge.

``N_`` only marks a string for extraction (pybabel ``-k N_``): the domain stays free of
Flask, and views call ``gettext(label)`` when they render.
"""


def N_(text: str) -> str:
    return text


CLIENT_STATUS = {
    "active": N_("Bookkeeping"),          # 代理记账
    "license_only": N_("Licence only"),   # 仅办照
    "stopped": N_("Stopped"),             # 已停止
    "cancelled": N_("Deregistered"),      # 已注销
    "deleted": N_("Deleted"),             # 已删除
}
STATUS_ACTIVE = "active"
STATUS_DELETED = "deleted"

TAXPAYER_TYPE = {
    "small": N_("Small-scale taxpayer"),   # 小规模纳税人
    "general": N_("General taxpayer"),     # 一般纳税人
}

TAX_DEVICE_TYPE = {
    "none": N_("None"),
    "golden_tax": N_("Golden Tax disk"),   # 金税盘
    "tax_control": N_("Tax control disk"),  # 税控盘
    "ukey": N_("Tax UKey"),                # 税务UKey
}

BILLING_CYCLE = {
    "month": N_("Monthly"),
    "quarter": N_("Quarterly"),
    "half_year": N_("Half-yearly"),
    "year": N_("Yearly"),
}
BILLING_CYCLE_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}

BILLING_STATE = {
    "billed": N_("Billed"),           # 正常收费
    "free": N_("Free of charge"),     # 免费
    "stopped": N_("Billing stopped"),  # 停止计费
}

# Dictionaries an Admin edits (DictItem.kind) and the entries shipped with them.
DICT_KINDS = {
    "client_source": N_("Client sources"),        # 客户来源
    "journal_category": N_("Journal categories"),  # 日记账分类
    "payment_method": N_("Payment methods"),       # 收支方式
    "tax_kind": N_("Tax kinds"),                   # 税种
}
DEFAULT_DICT_ITEMS = {
    "client_source": ["转介绍", "网络推广", "电话营销", "老客户", "工商注册转化", "其他"],
    "journal_category": ["代理记账费", "注册地址费", "工商变更费", "税控服务费", "办照费", "房租", "工资", "办公费", "其他"],
    "payment_method": ["现金", "微信", "支付宝", "银行转账", "POS刷卡"],
    "tax_kind": ["增值税", "企业所得税", "个人所得税", "附加税", "印花税", "房产税", "城镇土地使用税"],
}

AUDIT_ACTIONS = {
    "insert": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Removed"),
    "login": N_("Logged in"),
    "login_failed": N_("Login failed"),
    "export": N_("Exported"),
    "sync": N_("Synchronised"),
    "unlock": N_("Unlocked"),
    "dun": N_("Dunning notice"),
    "import": N_("Imported"),
    "approve": N_("Approved"),
    "logout": N_("Logged out"),
    "reveal": N_("Password shown"),
    "rotate": N_("Key rotated"),
    "match": N_("Matched"),
    "unmatch": N_("Match taken back"),
    "write_off": N_("Written off"),
    "print": N_("Printed"),
}
AUDIT_TABLES = {
    "client": N_("Client"),
    "client_group": N_("Client group"),
    "ab_user": N_("User"),
    "ab_role": N_("Role"),
    "ab_group": N_("Staff group"),
    "dict_item": N_("Dictionary entry"),
    "setting": N_("Setting"),
    "hidden_field": N_("Field visibility"),
    "obligation": N_("Obligation"),
    "obligation_record": N_("Obligation record"),
    "obligation_type": N_("Obligation type"),
    "scheduled_job": N_("Scheduled job"),
    "job_run": N_("Job run"),
    "todo": N_("Todo"),
    "contract": N_("Contract"),
    "contract_term": N_("Contract term"),
    "address_service": N_("Address service"),
    "client_credential": N_("Client login"),
    "journal_entry": N_("Journal entry"),
    "invoice": N_("Invoice"),
    "charge": N_("Charge"),
    "receipt": N_("Receipt"),
    "refund": N_("Refund"),
    "allocation": N_("Match"),
}

# 报税管理: which clients an obligation type applies to (all from the client row).
APPLIES_TO = {
    "all_active": N_("All bookkeeping clients"),
    "tax_device": N_("Clients with a tax device"),
    "tax_custody": N_("Clients whose tax device we keep"),
    "ticket_pickup": N_("Clients who asked for ticket pickup"),
    "provides_address": N_("Clients we provide an address to"),
    "onsite_bookkeeping": N_("Clients with on-site bookkeeping"),
}
RECORD_KIND = {"complete": N_("Completed"), "skip": N_("Skipped")}
# 报税日历: a type is recurring work on a croniter rule, or a filing per period with a
# legal deadline (the 征期 calendar)
OBLIGATION_CATEGORY = {"task": N_("Recurring work"), "filing": N_("Tax filing")}
FILING_CYCLE = {"month": N_("Monthly"), "quarter": N_("Quarterly"), "year": N_("Yearly")}
#: a client's cycle for one tax kind: a filing cycle, or he does not file it
TAX_KIND_CYCLE = {**FILING_CYCLE, "none": N_("Not filed")}
#: 上门取票: whether and how often the field agent collects the client's invoices
TICKET_PICKUP = {"none": N_("No ticket pickup"), "month": N_("Monthly"),
                 "quarter": N_("Quarterly")}
CALENDAR_DAY_KIND = {"holiday": N_("Holiday (day off)"),
                     "workday": N_("Working day (调休)")}
CONTRACT_STATUS = {"pending": N_("Pending approval"), "approved": N_("Approved")}
# 客户账号密码: which system a stored login is for
CREDENTIAL_SYSTEM = {"etax": N_("Electronic tax bureau"), "iit": N_("Individual income tax"),
                     "social": N_("Social insurance"), "fund": N_("Housing fund"),
                     "bank": N_("Bank"), "other": N_("Other")}
ADDRESS_FEE_TYPE = {"yearly": N_("Yearly fee"), "one_off": N_("One-off fee")}

JOURNAL_DIRECTION = {"income": N_("Income"), "expense": N_("Expense")}
APPROVAL_STATUS = {"pending": N_("Pending approval"), "approved": N_("Approved")}
#: 应收 (receivables)
CHARGE_KIND = {"periodic": N_("Service fee"), "one_off": N_("One-off fee"),
               "adjustment": N_("Adjustment"), "historical": N_("Fee paid before the ledger")}
#: an adjustment (调整) waits 待审核 (``pending``) until a Manager or Finance approves it
#: (never its author) and counts from then on (``open``); a refused one is ``rejected``
CHARGE_STATE = {"open": N_("Open"), "paid": N_("Paid"), "written_off": N_("Written off"),
                "pending": N_("Pending approval"), "rejected": N_("Rejected")}
INVOICE_TYPE = {"normal": N_("Ordinary invoice"), "special": N_("Special VAT invoice")}
INVOICE_STATUS = {"applied": N_("Requested"), "approved": N_("Approved"),
                  "issued": N_("Issued"), "void": N_("Voided")}

# 定时任务: the outcome of one attempt at a job's tick (app/domain/schedule.py).
JOB_RUN_STATUS = {
    "running": N_("Running"),            # 运行中
    "succeeded": N_("Succeeded"),        # 成功
    "failed": N_("Failed"),              # 失败
    "abandoned": N_("Abandoned"),        # 中断（进程已退出）
    "interrupted": N_("Stopped"),        # 已停止（收到停止信号）
}

# 销售 (seed 001): 意向客户 stages, follow-up ways, the price list's cycles
LEAD_STAGE = {
    "new": N_("New lead"),          # 新线索
    "following": N_("Following up"),  # 跟进中
    "won": N_("Won"),               # 已成交
    "lost": N_("Lost"),             # 已流失
    "pool": N_("Public pool"),      # 公共池
}
#: stages in which a lead is nobody's: its contacts do not block another salesperson
LEAD_STAGES_FREE = ("lost", "pool")
FOLLOW_UP_WAY = {"phone": N_("Phone call"), "wechat": N_("WeChat"),
                 "visit": N_("Visit"), "other": N_("Other")}
PRICE_CYCLE = {"month": N_("Per month"), "quarter": N_("Per quarter"),
               "year": N_("Per year"), "once": N_("One-off")}
PRICE_CYCLE_MONTHS = {"month": 1, "quarter": 3, "year": 12}
CONTACT_KIND = {"mobile": N_("Mobile"), "wechat": N_("WeChat"), "qq": N_("QQ"),
                "landline": N_("Landline"), "email": N_("E-mail"),
                "credit": N_("Unified social credit code")}
SALES_CONTRACT_STATUS = {"draft": N_("Draft"), "pending": N_("Pending approval"),
                         "approved": N_("Approved")}
#: the business types (业务类型) shipped with their price list entries (an Admin edits them)
DEFAULT_BUSINESS_TYPES = [
    ("代理记账", "300.00", "month"), ("工商注册", "800.00", "once"),
    ("变更", "500.00", "once"), ("注销", "1500.00", "once"), ("商标", "1200.00", "once"),
    ("社保开户", "300.00", "once"),
]
AUDIT_TABLES.update({
    "lead": N_("Lead"), "contact": N_("Contact"), "follow_up": N_("Follow-up"),
    "business_type": N_("Business type"), "sales_contract": N_("Sales contract"),
    "sales_contract_line": N_("Sales contract item"),
})

#: 业务请求 (seed 002): states of a client's service request (``workflows.SERVICE_REQUEST``)
SERVICE_REQUEST_STATUS = {"new": N_("To dispatch"), "assigned": N_("Assigned"),
                          "in_progress": N_("In progress"),
                          "waiting": N_("Awaiting client confirmation"),
                          "done": N_("Completed"), "cancelled": N_("Cancelled")}
URGENCY = {"normal": N_("Normal"), "urgent": N_("Urgent")}
#: 服务项目 shipped once (name, price, expected days, hours to accept); an Admin edits them
DEFAULT_SERVICE_ITEMS = [
    ("变更地址", "500.00", 15, 24), ("开具证明", "0.00", 3, 8), ("发票领用", "0.00", 2, 8),
    ("社保增员", "0.00", 3, 8), ("注销", "1500.00", 60, 24),
]
#: 评价 of a completed request (seed 002)
RATING = {"good": N_("Good"), "neutral": N_("Neutral"), "bad": N_("Bad")}
#: 投诉: filed by a client, handled by a Manager to closure
COMPLAINT_STATUS = {"open": N_("Open"), "handling": N_("Being handled"),
                    "closed": N_("Closed")}
