"""Response shapes of the costs API. Amounts are USD, exact to the micro-dollar (computed in
integer micro-USD and converted once); days and months are UTC."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from gp4u.provisioning.schemas import SessionState

MONTH_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"  # 1970-01 to 2999-12


class SessionCostOut(BaseModel):
    id: int
    gpu: str
    gpu_count: int
    provider: str
    state: SessionState
    key_id: str | None = Field(description="The API key that launched it (null: a login).")
    running_at: datetime = Field(description="Billing started here.")
    billing_end: datetime | None = Field(description="Billing stopped here (null: running).")
    price_per_hour: float
    minutes: int = Field(description="Started minutes of running time billed so far.")
    cost: float = Field(description="The whole session's cost (so far, while it runs).")
    window_cost: float = Field(description="The part of `cost` within the report's days.")


class DayCostOut(BaseModel):
    date: date
    cost: float


class MonthCostOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    cost: float


class KeyCostOut(BaseModel):
    key_id: str | None = Field(description="An API key's id; null: sessions launched by a login.")
    sessions: int
    cost: float = Field(description="Within the report's days.")


class BudgetFlagOut(BaseModel):
    monthly_limit: float | None = Field(description="Your account's monthly budget (null: none).")
    projected_over_budget: bool = Field(
        description="The projected month-end session cost is above the monthly limit."
    )


class MonthFiguresOut(BaseModel):
    burn_rate_per_hour: float = Field(description="The hourly prices of the running sessions.")
    month_to_date: float = Field(description="Session cost in the month so far.")
    projected_month_end: float = Field(
        description="Month to date plus what the running sessions cost until the month ends, "
        "each no further than its paid time (`expires_at`) and never more than was held."
    )
    budget: BudgetFlagOut


class CostsOut(MonthFiguresOut):
    as_of: datetime
    since: datetime = Field(description="The first day of the report's days (00:00 UTC).")
    days: int
    month: str = Field(description="The month of the month figures and the last of `monthly`.")
    total: float = Field(description="Cost within the report's days: the sum of `daily`.")
    sessions: list[SessionCostOut] = Field(
        description="Sessions that ran in the days, newest first."
    )
    daily: list[DayCostOut] = Field(
        description="Every day, oldest first (a session is split by its minutes in each day)."
    )
    monthly: list[MonthCostOut] = Field(description="The 12 months up to `month`, oldest first.")
    by_key: list[KeyCostOut] = Field(
        description="Within the report's days, the most expensive first."
    )


class UserCostOut(MonthFiguresOut):
    user_id: str
    email: str | None
    sessions: int = Field(description="Sessions that ran in the month.")
    running: int = Field(description="Sessions running now.")


class UserCostsOut(BaseModel):
    as_of: datetime
    month: str
    month_to_date: float
    projected_month_end: float
    users: list[UserCostOut] = Field(description="The most expensive first.")
