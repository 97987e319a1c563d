// The cluster wizard's step form as plain data: read from and written to the URL (so a visitor
// who must log in to create comes back to the same plan), checked and turned into the API's job
// request, filled from what the wizard understood, and changed by a chosen alternative.
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type JobIn = Schemas["PlanIn"];
export type Placement = Schemas["Placement"];
export type Precision = Schemas["ComputeIn"]["precision"];
export type Requirement = Schemas["RequirementOut"];

export type ComputeMode = "model" | "pflop" | "gpu_hours";
export type DeadlineMode = "hours" | "date";

/** Every field as the form holds it (numbers as typed, so a half-typed value is not lost). */
export interface JobForm {
  compute: ComputeMode;
  params_b: string;
  tokens_b: string;
  pflop_hours: string;
  gpu_hours: string;
  reference_gpu: string;
  precision: Precision;
  deadline_mode: DeadlineMode;
  deadline_hours: string;
  deadline: string;
  budget_usd: string;
  min_vram_gb: string;
  spot_allowed: boolean;
  min_reliability: string;
  placement: Placement;
  max_machines: string;
  min_gpus_per_machine: string;
  sustained: boolean;
}

export const EMPTY_FORM: JobForm = {
  compute: "model",
  params_b: "",
  tokens_b: "",
  pflop_hours: "",
  gpu_hours: "",
  reference_gpu: "H100",
  precision: "bf16",
  deadline_mode: "hours",
  deadline_hours: "",
  deadline: "",
  budget_usd: "",
  min_vram_gb: "",
  spot_allowed: false,
  min_reliability: "",
  placement: "any",
  max_machines: "",
  min_gpus_per_machine: "",
  sustained: false,
};

/** The server's default for `max_machines` (src/gp4u/clusters/requirements.py). */
export const DEFAULT_MAX_MACHINES = 32;
const COMPUTE_MODES: readonly ComputeMode[] = ["model", "pflop", "gpu_hours"];
const PRECISIONS: readonly Precision[] = ["bf16", "fp16", "fp32"];
export const PLACEMENTS: readonly Placement[] = ["any", "same_provider", "same_region", "single_machine"];
const TEXT_FIELDS = [
  "params_b",
  "tokens_b",
  "pflop_hours",
  "gpu_hours",
  "reference_gpu",
  "deadline_hours",
  "deadline",
  "budget_usd",
  "min_vram_gb",
  "min_reliability",
  "max_machines",
  "min_gpus_per_machine",
] as const;
const FLAGS = ["spot_allowed", "sustained"] as const;

/** FLOPs of training a dense transformer: 6 × parameters × tokens (Kaplan et al., 2020). */
export function trainingPflopHours(paramsBillions: number, tokensBillions: number): number {
  return (6 * paramsBillions * 1e9 * tokensBillions * 1e9) / 1e15 / 3600;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** The form in the URL (defaults and empty fields left out). */
export function readJobForm(params: URLSearchParams): JobForm {
  const form: JobForm = { ...EMPTY_FORM };
  form.compute = oneOf(params.get("compute"), COMPUTE_MODES, EMPTY_FORM.compute);
  form.precision = oneOf(params.get("precision"), PRECISIONS, EMPTY_FORM.precision);
  form.placement = oneOf(params.get("placement"), PLACEMENTS, EMPTY_FORM.placement);
  form.deadline_mode = params.has("deadline") ? "date" : "hours";
  for (const key of TEXT_FIELDS) {
    const value = params.get(key);
    if (value !== null) form[key] = value.slice(0, 60);
  }
  for (const key of FLAGS) form[key] = params.get(key) === "1";
  return form;
}

export function writeJobForm(base: URLSearchParams, form: JobForm): URLSearchParams {
  const params = new URLSearchParams(base);
  for (const key of ["compute", "precision", "placement", ...TEXT_FIELDS, ...FLAGS]) params.delete(key);
  if (form.compute !== EMPTY_FORM.compute) params.set("compute", form.compute);
  const unused = new Set<string>(
    form.compute === "model"
      ? ["pflop_hours", "gpu_hours", "reference_gpu"]
      : form.compute === "pflop"
        ? ["params_b", "tokens_b", "gpu_hours", "reference_gpu"]
        : ["params_b", "tokens_b", "pflop_hours"],
  );
  unused.add(form.deadline_mode === "hours" ? "deadline" : "deadline_hours");
  for (const key of TEXT_FIELDS) {
    const value = form[key].trim();
    if (value && !unused.has(key) && value !== EMPTY_FORM[key]) params.set(key, value);
  }
  if (form.precision !== EMPTY_FORM.precision) params.set("precision", form.precision);
  if (form.placement !== EMPTY_FORM.placement) params.set("placement", form.placement);
  for (const key of FLAGS) if (form[key]) params.set(key, "1");
  return params;
}

export type Checked = { ok: true; job: JobIn } | { ok: false; field: keyof JobForm; message: string };

function amount(text: string): number | null {
  if (!text.trim()) return null;
  const value = Number(text.replace(/[$,_\s]/g, ""));
  return Number.isFinite(value) ? value : Number.NaN;
}

function positive(form: JobForm, field: keyof JobForm, label: string): number | string {
  const value = amount(String(form[field]));
  if (value === null) return `${label} is needed.`;
  if (Number.isNaN(value) || value <= 0) return `${label} must be a number above 0.`;
  return value;
}

/** The job request the form describes, or the first field that is missing or wrong. */
export function checkJobForm(form: JobForm): Checked {
  const fail = (field: keyof JobForm, message: string): Checked => ({ ok: false, field, message });
  let compute: JobIn["compute"];
  if (form.compute === "model") {
    const params = positive(form, "params_b", "The model's size");
    if (typeof params === "string") return fail("params_b", params);
    const tokens = positive(form, "tokens_b", "The number of tokens");
    if (typeof tokens === "string") return fail("tokens_b", tokens);
    compute = { pflop_hours: round(trainingPflopHours(params, tokens)), precision: form.precision, reference_gpu: "H100" };
  } else if (form.compute === "pflop") {
    const pflop = positive(form, "pflop_hours", "The compute");
    if (typeof pflop === "string") return fail("pflop_hours", pflop);
    compute = { pflop_hours: pflop, precision: form.precision, reference_gpu: "H100" };
  } else {
    const hours = positive(form, "gpu_hours", "The GPU-hours");
    if (typeof hours === "string") return fail("gpu_hours", hours);
    const reference = form.reference_gpu.trim();
    if (!reference) return fail("reference_gpu", "Name the GPU the GPU-hours are counted on.");
    compute = { gpu_hours: hours, reference_gpu: reference, precision: form.precision };
  }
  const job: JobIn = {
    compute,
    placement: form.placement,
    spot_allowed: form.spot_allowed,
    sustained: form.sustained,
    min_vram_gb: 0,
    max_machines: DEFAULT_MAX_MACHINES,
    min_gpus_per_machine: 1,
  };
  if (form.deadline_mode === "hours") {
    const hours = positive(form, "deadline_hours", "The deadline");
    if (typeof hours === "string") return fail("deadline_hours", hours);
    job.deadline_hours = hours;
  } else {
    const at = Date.parse(form.deadline);
    if (!form.deadline || Number.isNaN(at)) return fail("deadline", "Choose the date and time it must be done by.");
    job.deadline = new Date(at).toISOString();
  }
  const budget = amount(form.budget_usd);
  if (budget !== null) {
    if (Number.isNaN(budget) || budget <= 0) return fail("budget_usd", "The budget must be an amount above $0.");
    job.budget_usd = budget;
  }
  const vram = amount(form.min_vram_gb);
  if (vram !== null) {
    if (Number.isNaN(vram) || vram < 0) return fail("min_vram_gb", "Memory per GPU must be 0 or more GB.");
    job.min_vram_gb = vram;
  }
  const reliability = amount(form.min_reliability);
  if (reliability !== null) {
    if (Number.isNaN(reliability) || reliability < 0 || reliability > 100)
      return fail("min_reliability", "Reliability is a percentage from 0 to 100.");
    job.min_reliability = reliability / 100;
  }
  for (const [field, label] of [
    ["max_machines", "Machines"],
    ["min_gpus_per_machine", "GPUs per machine"],
  ] as const) {
    const value = amount(form[field]);
    if (value === null) continue;
    if (!Number.isInteger(value) || value < 1) return fail(field, `${label} must be a whole number of 1 or more.`);
    job[field] = value;
  }
  return { ok: true, job };
}

function round(value: number): number {
  return Number(value.toPrecision(6));
}

function text(value: number | null | undefined): string {
  return value === null || value === undefined ? "" : String(round(value));
}

/** The step form holding what the wizard understood (the planner's requirement). */
export function formFromRequirement(req: Requirement): JobForm {
  return {
    ...EMPTY_FORM,
    compute: "pflop",
    pflop_hours: String(req.pflop_hours), // exact: the same requirement plans the same
    precision: req.precision,
    deadline_hours: text(req.deadline_hours),
    budget_usd: text(req.budget),
    min_vram_gb: req.min_vram_gb ? text(req.min_vram_gb) : "",
    spot_allowed: req.spot_allowed,
    min_reliability: req.min_reliability === null ? "" : text(req.min_reliability * 100),
    placement: req.placement,
    max_machines: req.max_machines === DEFAULT_MAX_MACHINES ? "" : text(req.max_machines),
    min_gpus_per_machine: req.min_gpus_per_machine > 1 ? text(req.min_gpus_per_machine) : "",
    sustained: req.sustained,
  };
}

/** The form with an alternative's changes (request fields, as the API names them) applied. */
export function applyChanges(form: JobForm, changes: Record<string, unknown>): JobForm {
  const next: JobForm = { ...form };
  for (const [key, value] of Object.entries(changes)) {
    switch (key) {
      case "deadline_hours":
        next.deadline_mode = "hours";
        next.deadline_hours = text(value as number);
        break;
      case "budget_usd":
        next.budget_usd = typeof value === "number" ? String(Math.ceil(value * 100) / 100) : "";
        break;
      case "min_reliability":
        next.min_reliability = typeof value === "number" ? text(value * 100) : "";
        break;
      case "min_vram_gb":
      case "max_machines":
      case "min_gpus_per_machine":
        next[key] = text(value as number);
        break;
      case "spot_allowed":
      case "sustained":
        next[key] = Boolean(value);
        break;
      case "placement":
        next.placement = oneOf(String(value), PLACEMENTS, "any");
        break;
      default:
        break; // no alternative changes another field today; one that did would be left as it is
    }
  }
  return next;
}

/** Environment variables typed as KEY=value lines (blank lines and # comments skipped). */
export function parseEnv(lines: string): { env: Record<string, string> } | { error: string } {
  const env: Record<string, string> = {};
  for (const [index, raw] of lines.split("\n").entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const name = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { error: `Line ${index + 1}: write NAME=value.` };
    env[name] = line.slice(eq + 1);
  }
  return { env };
}
