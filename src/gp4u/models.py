"""Every ORM model, imported in one place so Alembic and the tests see the whole schema."""

from gp4u.accounts.models import ApiKey, ProviderCredential, RefreshToken, User
from gp4u.alerts.models import Notification, Watch, WebhookDelivery
from gp4u.audit.models import AuditEvent
from gp4u.clusters.models import Cluster, ClusterMember
from gp4u.db.base import Base
from gp4u.hosts.models import HostMachine, MachineBlock, MachineRun, MachineUptime
from gp4u.jobs.models import OutboxJob
from gp4u.ledger.models import (
    AccountBalance,
    Hold,
    IdempotencyRecord,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from gp4u.offers.models import MarketState, Offer, OfferPrice, SourceSync
from gp4u.provisioning.models import GpuSession
from gp4u.reservations.models import Reservation
from gp4u.wallet.models import Budget, BudgetAlert, Charge, Payment

metadata = Base.metadata

__all__ = [
    "AccountBalance",
    "ApiKey",
    "AuditEvent",
    "Budget",
    "BudgetAlert",
    "Charge",
    "Cluster",
    "ClusterMember",
    "GpuSession",
    "Hold",
    "HostMachine",
    "IdempotencyRecord",
    "JournalEntry",
    "LedgerAccount",
    "MachineBlock",
    "MachineRun",
    "MachineUptime",
    "MarketState",
    "Notification",
    "Offer",
    "OfferPrice",
    "OutboxJob",
    "Payment",
    "Posting",
    "ProviderCredential",
    "RefreshToken",
    "Reservation",
    "SourceSync",
    "User",
    "Watch",
    "WebhookDelivery",
    "metadata",
]
