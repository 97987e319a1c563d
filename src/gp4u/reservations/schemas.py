"""Request and response shapes of the reservations API. Times are ISO 8601 with a zone, on
whole minutes; prices are USD per hour for the whole machine."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gp4u.db.base import MAX_ID
from gp4u.web.schemas import RequestModel

ReservationState = Literal["pending", "active", "completed", "cancelled", "failed"]


class BookIn(RequestModel):
    machine_id: int | None = Field(None, ge=1, le=MAX_ID, description="A host machine.")
    offer_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Or an offer whose provider takes bookings."
    )
    start: datetime = Field(description="Inclusive, on a whole minute.")
    end: datetime = Field(description="Exclusive: [10:00, 11:00) and [11:00, 12:00) both fit.")
    startup_command: str | None = Field(
        None, max_length=16_000, description="Run on the machine when the reservation starts."
    )
    ssh_public_key: str | None = Field(None, max_length=4096, description="OpenSSH public key.")


class ExtendIn(RequestModel):
    end: datetime = Field(description="The new end (later than the current one).")


class ReservationOut(BaseModel):
    id: int
    machine_id: int
    state: ReservationState
    start: datetime
    end: datetime
    hours: float
    price_per_hour: float = Field(description="Fixed at booking; extensions keep it.")
    quote: float = Field(description="Price of the whole booked time.")
    held: float = Field(description="Still held on your wallet for it.")
    paid: float = Field(description="Paid to the host so far.")
    session_id: int | None = Field(description="The session running it, once active.")
    end_reason: str | None
    end_detail: str | None
    extensions: int
    cluster_id: int | None = Field(
        description="Set when a cluster booked this time for one of its members: the cluster "
        "pays for it and manages it (it cannot be cancelled or extended on its own)."
    )
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    starts_in_seconds: int


class ReservationsOut(BaseModel):
    items: list[ReservationOut]
    next_before: int | None
