// Short names for the hosting API shapes (generated from the OpenAPI document in api/schema.d.ts).
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type Machine = Schemas["MachineOut"];
export type MachineCreated = Schemas["MachineCreatedOut"];
export type MachineBody = Schemas["MachineIn"];
export type MachineChange = Schemas["MachineChangeIn"];
export type MachineAgent = Schemas["MachineAgentOut"];
export type Dashboard = Schemas["DashboardOut"];
export type MachineUse = Schemas["MachineUseOut"];
export type Booking = Schemas["BookingOut"];
export type Payment = Schemas["PaymentOut"];
export type Block = Schemas["BlockOut"];
export type Calendar = Schemas["CalendarOut"];
export type CalendarDay = Schemas["DayOut"];
export type Segment = Schemas["SegmentOut"];
