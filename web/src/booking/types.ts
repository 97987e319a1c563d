// Short names for the generated API shapes the booking pages use (from ../api/schema.d.ts).
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type Reservation = Schemas["ReservationOut"];
export type ReservationState = Reservation["state"];
export type Session = Schemas["SessionOut"];
export type SessionCreated = Schemas["SessionCreatedOut"];
export type SessionState = Session["state"];
export type Availability = Schemas["AvailabilityOut"];
export type Slot = Schemas["SlotOut"];
export type Wallet = Schemas["WalletOut"];
export type ProviderInfo = Schemas["ProviderOut"];
