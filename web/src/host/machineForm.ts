// A machine's terms as the listing and editing forms hold them (text, as typed), checked here
// with the server's own limits so mistakes show beside their field before anything is sent,
// and turned into the API's bodies: the whole listing, or only what changed.
import type { Machine, MachineBody, MachineChange } from "./types";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];
export const DAY_NAMES: Record<Day, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export interface HoursRow {
  day: Day;
  start: string;
  end: string;
}

export interface MachineForm {
  name: string;
  gpu_name: string;
  gpu_count: string;
  gpu_memory_gb: string;
  vcpus: string;
  memory_gb: string;
  disk_gb: string;
  inet_down_mbps: string;
  inet_up_mbps: string;
  region: string;
  country: string;
  price_per_hour: string;
  min_hours: string;
  timezone: string;
  /** Weekly opening hours; none means always open. */
  windows: HoursRow[];
}

export type TextField = Exclude<keyof MachineForm, "windows">;
/** Field name (or `windows.<row>`) → what is wrong with it. */
export type FormErrors = Record<string, string>;

type NumberRule = { label: string; min: number; above?: boolean; max: number; integer?: boolean; decimals?: number };

/** The server's limits (hosts/schemas.py MachineTerms). */
const NUMBERS: Partial<Record<TextField, NumberRule>> = {
  gpu_count: { label: "GPU count", min: 1, max: 64, integer: true },
  gpu_memory_gb: { label: "GPU memory", min: 0, above: true, max: 1024 },
  vcpus: { label: "vCPUs", min: 0, above: true, max: 4096 },
  memory_gb: { label: "Memory", min: 0, above: true, max: 65536 },
  disk_gb: { label: "Disk", min: 0, above: true, max: 10_000_000 },
  inet_down_mbps: { label: "Download speed", min: 0, above: true, max: 1_000_000 },
  inet_up_mbps: { label: "Upload speed", min: 0, above: true, max: 1_000_000 },
  price_per_hour: { label: "Price", min: 0, above: true, max: 10_000, decimals: 4 },
  min_hours: { label: "Shortest booking", min: 0, above: true, max: 744 },
};

const REQUIRED: readonly TextField[] = ["name", "gpu_name", "gpu_count", "price_per_hour"];
const TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

export function emptyForm(timezone = "UTC"): MachineForm {
  return {
    name: "",
    gpu_name: "",
    gpu_count: "1",
    gpu_memory_gb: "",
    vcpus: "",
    memory_gb: "",
    disk_gb: "",
    inet_down_mbps: "",
    inet_up_mbps: "",
    region: "",
    country: "",
    price_per_hour: "",
    min_hours: "",
    timezone,
    windows: [],
  };
}

/** The browser's own IANA zone, the likeliest one for a machine its owner is setting up. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function minutes(hhmm: string): number {
  const [h = 0, m = 0] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

function checkNumber(value: string, rule: NumberRule): string | null {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) return `${rule.label} must be a number.`;
  if (rule.integer && !Number.isInteger(n)) return `${rule.label} must be a whole number.`;
  if (rule.above ? n <= rule.min : n < rule.min) return `${rule.label} must be ${rule.above ? "more than" : "at least"} ${rule.min}.`;
  if (n > rule.max) return `${rule.label} can be at most ${rule.max.toLocaleString("en-US")}.`;
  const decimals = value.split(".")[1]?.length ?? 0;
  if (rule.decimals !== undefined && decimals > rule.decimals) return `${rule.label} has at most ${rule.decimals} decimals.`;
  return null;
}

export function validate(form: MachineForm): FormErrors {
  const errors: FormErrors = {};
  for (const field of REQUIRED) {
    if (form[field].trim() === "") errors[field] = "Required.";
  }
  if (!errors.name && form.name.trim().length > 100) errors.name = "At most 100 characters.";
  if (!errors.gpu_name && form.gpu_name.trim().length < 2) errors.gpu_name = "At least 2 characters, e.g. RTX 4090.";
  if (form.gpu_name.trim().length > 128) errors.gpu_name = "At most 128 characters.";
  for (const [field, rule] of Object.entries(NUMBERS) as [TextField, NumberRule][]) {
    if (errors[field] || form[field].trim() === "") continue;
    const problem = checkNumber(form[field].trim(), rule);
    if (problem) errors[field] = problem;
  }
  if (form.region.length > 128) errors.region = "At most 128 characters.";
  if (form.country.trim() !== "" && !/^[A-Za-z]{2}$/.test(form.country.trim())) {
    errors.country = "A two-letter ISO 3166 code, e.g. DE.";
  }
  if (form.timezone.trim() !== "" && !isTimeZone(form.timezone.trim())) {
    errors.timezone = "An IANA time zone, e.g. Europe/Berlin or UTC.";
  }
  form.windows.forEach((row, index) => {
    if (!TIME.test(row.start) || row.start === "24:00") errors[`windows.${index}`] = "Start is HH:MM (00:00 to 23:59).";
    else if (!TIME.test(row.end)) errors[`windows.${index}`] = "End is HH:MM (24:00 for midnight).";
    else if (minutes(row.end) <= minutes(row.start)) errors[`windows.${index}`] = "The end must be after the start.";
  });
  form.windows.forEach((row, index) => {
    if (errors[`windows.${index}`]) return;
    const clash = form.windows.findIndex(
      (other, j) =>
        j !== index &&
        other.day === row.day &&
        !errors[`windows.${j}`] &&
        minutes(other.start) < minutes(row.end) &&
        minutes(row.start) < minutes(other.end),
    );
    if (clash !== -1) errors[`windows.${index}`] = `Overlaps other hours on ${DAY_NAMES[row.day]}.`;
  });
  return errors;
}

function optionalNumber(value: string): number | null {
  return value.trim() === "" ? null : Number(value.trim());
}

function optionalText(value: string): string | null {
  return value.trim() === "" ? null : value.trim();
}

/** The POST /api/v1/machines body of a valid form (blank optional fields left out). */
export function toBody(form: MachineForm): MachineBody {
  const body: MachineBody = {
    name: form.name.trim(),
    gpu_name: form.gpu_name.trim(),
    gpu_count: Number(form.gpu_count),
    price_per_hour: form.price_per_hour.trim(),
    windows: form.windows.map((w) => ({ day: w.day, start: w.start, end: w.end })),
  };
  for (const field of ["gpu_memory_gb", "vcpus", "memory_gb", "disk_gb", "inet_down_mbps", "inet_up_mbps", "min_hours"] as const) {
    const n = optionalNumber(form[field]);
    if (n !== null) body[field] = n;
  }
  const region = optionalText(form.region);
  if (region) body.region = region;
  const country = optionalText(form.country);
  if (country) body.country = country.toUpperCase();
  const timezone = optionalText(form.timezone);
  if (timezone) body.timezone = timezone;
  return body;
}

function text(value: number | string | null | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

export function fromMachine(machine: Machine): MachineForm {
  return {
    name: machine.name,
    gpu_name: machine.gpu_raw_name,
    gpu_count: text(machine.gpu_count),
    gpu_memory_gb: text(machine.gpu_memory_gb),
    vcpus: text(machine.vcpus),
    memory_gb: text(machine.memory_gb),
    disk_gb: text(machine.disk_gb),
    inet_down_mbps: text(machine.inet_down_mbps),
    inet_up_mbps: text(machine.inet_up_mbps),
    region: text(machine.region),
    country: text(machine.country),
    price_per_hour: text(machine.price_per_hour),
    min_hours: text(machine.min_hours),
    timezone: machine.timezone,
    windows: machine.windows.map((w) => ({ day: String(w.day) as Day, start: String(w.start), end: String(w.end) })),
  };
}

/**
 * The PATCH body: only the fields that differ from `original`. A cleared optional field is not
 * sent (the API keeps its value), so the form says so beside those fields.
 */
export function changes(form: MachineForm, original: MachineForm): MachineChange {
  const full = toBody(form);
  const body: MachineChange = {};
  const target = body as Record<string, unknown>;
  const source = full as Record<string, unknown>;
  for (const field of Object.keys(original) as (keyof MachineForm)[]) {
    if (field === "windows") {
      if (JSON.stringify(form.windows) !== JSON.stringify(original.windows)) target.windows = full.windows ?? [];
    } else if (form[field].trim() !== original[field].trim() && source[field] !== undefined) {
      target[field] = source[field];
    }
  }
  return body;
}
