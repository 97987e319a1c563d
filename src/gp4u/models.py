"""Every ORM model, imported in one place so Alembic and the tests see the whole schema."""

from gp4u.db.base import Base
from gp4u.jobs.models import OutboxJob
from gp4u.offers.models import MarketState, Offer, OfferPrice, SourceSync

metadata = Base.metadata

__all__ = ["MarketState", "Offer", "OfferPrice", "OutboxJob", "SourceSync", "metadata"]
