// Short names for the generated API shapes the marketplace uses beyond the shared ones in
// ../api/types.ts (from schema.d.ts, made by `make web-client`).
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type GpuGroup = Schemas["GpuGroupOut"];
export type Summary = Schemas["SummaryOut"];
export type Opportunity = Schemas["Opportunity"];
export type CompareResult = Schemas["CompareOut"];
export type MarketHistory = Schemas["HistoryOut"];
export type MarketChanges = Schemas["MarketChanges"];
export type OfferChange = Schemas["OfferChange"];
export type Gpu = Schemas["GpuOut"];
