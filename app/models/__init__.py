"""SQLAlchemy models, one module per business area. Columns, constraints, indexes: no rules.

All models share FAB's declarative ``Model.metadata`` (the Alembic target).
"""
from .users import Staff  # noqa: F401
from .settings import ConfigVersion, DictItem, Setting  # noqa: F401
from .clients import Client, ClientCredential, ClientGroup, client_group_manager  # noqa: F401
from .audit import AuditLog  # noqa: F401
from .fields import HiddenField  # noqa: F401
from .obligations import (CalendarDay, ClientTaxKind, DeadlineOverride, JobRun,  # noqa: F401
                          Obligation, ObligationRecord, ObligationType, ScheduledJob)
from .work import AddressService, Contract, ContractTerm, Todo  # noqa: F401
from .finance import Invoice, JournalClientMonth, JournalEntry, JournalMonth  # noqa: F401
from .sales import (BusinessType, Contact, ContactKey, FollowUp, Lead,  # noqa: F401
                    SalesContract, SalesContractLine, lead_business_type)
from .portal import PortalAccount, PortalMembership  # noqa: F401
from .service import (Complaint, ServiceAttachment, ServiceItem, ServiceNote,  # noqa: F401
                      ServiceRating, ServiceRequest)
from .notices import Notice  # noqa: F401
from .ledger import (Allocation, Charge, FeeSchedule, Receipt, ReceiptCounter,  # noqa: F401
                     Refund)
