// Short names for the generated wallet and costs API shapes (from api/schema.d.ts).
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type Wallet = Schemas["WalletOut"];
export type Transaction = Schemas["TransactionOut"];
export type TransactionsPage = Schemas["TransactionsOut"];
export type Payment = Schemas["PaymentOut"];
export type Analytics = Schemas["AnalyticsOut"];
export type Budget = Schemas["BudgetOut"];
export type Budgets = Schemas["BudgetsOut"];
export type ApiKey = Schemas["ApiKeyOut"];
export type CostReport = Schemas["CostsOut"];
export type SessionCost = Schemas["SessionCostOut"];
export type EntryKind = Transaction["kind"];
