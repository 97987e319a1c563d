// The wizard's step form: URL round trips, checking into the API's request, the wizard's
// requirement as a form, alternatives applied, and environment lines.
import { describe, expect, it } from "vitest";

import {
  EMPTY_FORM,
  applyChanges,
  checkJobForm,
  formFromRequirement,
  parseEnv,
  readJobForm,
  trainingPflopHours,
  writeJobForm,
  type JobForm,
  type Requirement,
} from "./planState";

const FILLED: JobForm = { ...EMPTY_FORM, compute: "pflop", pflop_hours: "500", deadline_hours: "24", budget_usd: "1,500" };

describe("the step form in the URL", () => {
  it("writes only what differs from the defaults and the fields in use", () => {
    const params = writeJobForm(new URLSearchParams("via=form&params_b=70"), FILLED);
    expect(params.toString()).toBe("via=form&compute=pflop&pflop_hours=500&deadline_hours=24&budget_usd=1%2C500");
  });

  it("round-trips, including a date deadline and flags", () => {
    const form: JobForm = { ...FILLED, deadline_mode: "date", deadline: "2026-12-01T18:00", spot_allowed: true, placement: "same_region" };
    const read = readJobForm(writeJobForm(new URLSearchParams(), form));
    expect(read).toEqual({ ...form, deadline_hours: "" });
  });

  it("ignores values it does not know", () => {
    const form = readJobForm(new URLSearchParams("compute=quantum&precision=fp8&placement=moon"));
    expect(form.compute).toBe("model");
    expect(form.precision).toBe("bf16");
    expect(form.placement).toBe("any");
  });
});

describe("checking the form", () => {
  it("turns model and tokens into PFLOP-hours (6 × N × D)", () => {
    expect(trainingPflopHours(70, 2)).toBeCloseTo(233.333, 2);
    const checked = checkJobForm({ ...EMPTY_FORM, params_b: "70", tokens_b: "2", deadline_hours: "72" });
    expect(checked).toMatchObject({ ok: true, job: { compute: { pflop_hours: 233.333 }, deadline_hours: 72 } });
  });

  it("builds the request with the constraints given", () => {
    const checked = checkJobForm({ ...FILLED, min_vram_gb: "80", min_reliability: "95", max_machines: "4", spot_allowed: true });
    expect(checked).toEqual({
      ok: true,
      job: {
        compute: { pflop_hours: 500, precision: "bf16", reference_gpu: "H100" },
        placement: "any",
        spot_allowed: true,
        sustained: false,
        min_vram_gb: 80,
        max_machines: 4,
        min_gpus_per_machine: 1,
        deadline_hours: 24,
        budget_usd: 1500,
        min_reliability: 0.95,
      },
    });
  });

  it("names the first missing or wrong field", () => {
    expect(checkJobForm(EMPTY_FORM)).toMatchObject({ ok: false, field: "params_b" });
    expect(checkJobForm({ ...FILLED, deadline_hours: "" })).toMatchObject({ ok: false, field: "deadline_hours" });
    expect(checkJobForm({ ...FILLED, budget_usd: "lots" })).toMatchObject({ ok: false, field: "budget_usd" });
    expect(checkJobForm({ ...FILLED, max_machines: "2.5" })).toMatchObject({ ok: false, field: "max_machines" });
    expect(checkJobForm({ ...FILLED, min_reliability: "120" })).toMatchObject({ ok: false, field: "min_reliability" });
    expect(checkJobForm({ ...FILLED, deadline_mode: "date", deadline: "" })).toMatchObject({ ok: false, field: "deadline" });
  });

  it("sends GPU-hours with their reference GPU and a date as an instant", () => {
    const checked = checkJobForm({ ...FILLED, compute: "gpu_hours", gpu_hours: "100", reference_gpu: "A100", deadline_mode: "date", deadline: "2026-12-01T18:00:00Z" });
    expect(checked).toMatchObject({ ok: true, job: { compute: { gpu_hours: 100, reference_gpu: "A100" }, deadline: "2026-12-01T18:00:00.000Z" } });
  });
});

describe("the wizard's requirement and alternatives", () => {
  const requirement: Requirement = {
    pflop_hours: 1234.5678,
    precision: "bf16",
    described_as: "LoRA fine-tune",
    deadline_hours: 60.25,
    min_vram_gb: 48,
    budget: 3000,
    spot_allowed: false,
    min_reliability: null,
    placement: "any",
    max_machines: 32,
    min_gpus_per_machine: 1,
    sustained: false,
  };

  it("fills the form with what the planner was asked", () => {
    const form = formFromRequirement(requirement);
    expect(form).toMatchObject({ compute: "pflop", pflop_hours: "1234.5678", deadline_hours: "60.25", budget_usd: "3000", min_vram_gb: "48", max_machines: "" });
    expect(checkJobForm(form).ok).toBe(true);
  });

  it("applies a chosen alternative's changes", () => {
    const form: JobForm = { ...FILLED, deadline_mode: "date", deadline: "2026-12-01T18:00" };
    expect(applyChanges(form, { deadline_hours: 36 })).toMatchObject({ deadline_mode: "hours", deadline_hours: "36" });
    expect(applyChanges(form, { budget_usd: 1234.561 }).budget_usd).toBe("1234.57");
    expect(applyChanges(form, { spot_allowed: true }).spot_allowed).toBe(true);
    expect(applyChanges({ ...form, min_reliability: "99" }, { min_reliability: null }).min_reliability).toBe("");
    expect(applyChanges(form, { placement: "any", max_machines: 8 })).toMatchObject({ placement: "any", max_machines: "8" });
  });
});

describe("environment lines", () => {
  it("reads NAME=value lines and refuses others", () => {
    expect(parseEnv("A=1\n\n# note\nB_2 = x=y")).toEqual({ env: { A: "1", B_2: " x=y" } });
    expect(parseEnv("1A=2")).toEqual({ error: "Line 1: write NAME=value." });
    expect(parseEnv("novalue")).toEqual({ error: "Line 1: write NAME=value." });
  });
});
