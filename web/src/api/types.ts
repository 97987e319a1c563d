// Short names for the generated API shapes the UI uses (from schema.d.ts, made by `make web-client`).
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Offer = Schemas["OfferOut"];
export type OfferPage = Schemas["OfferPage"];
export type OfferDetail = Schemas["OfferDetail"];
export type PricePoint = Schemas["PricePoint"];
export type Compared = Schemas["Compared"];
export type ValueMetrics = Schemas["ValueOut"];
export type Me = Schemas["MeOut"];
export type TokenOut = Schemas["TokenOut"];
export type ErrorEnvelope = Schemas["ErrorOut"];
