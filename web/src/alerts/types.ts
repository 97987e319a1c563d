// Short names for the generated alerts API shapes (from api/schema.d.ts).
import type { components } from "../api/schema";

type Schemas = components["schemas"];

export type Watch = Schemas["WatchOut"];
export type WatchCreated = Schemas["WatchCreated"];
export type Notification = Schemas["NotificationOut"];
