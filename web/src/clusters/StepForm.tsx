// The wizard's step form: the job's compute (model and tokens, PFLOP-hours or GPU-hours), its
// deadline and budget, and the GPU and provider constraints the planner takes. It edits a copy
// and hands a checked form back on submit; the page keeps it in the URL.
import { useId, useRef, useState, type FormEvent, type ReactNode } from "react";

import { placementLabel, pflopHours } from "./format";
import { DEFAULT_MAX_MACHINES, PLACEMENTS, checkJobForm, trainingPflopHours, type JobForm } from "./planState";

interface Props {
  initial: JobForm;
  onSubmit: (form: JobForm) => void;
  busy: boolean;
}

export function StepForm({ initial, onSubmit, busy }: Props) {
  const [form, setForm] = useState<JobForm>(initial);
  const [problem, setProblem] = useState<{ field: keyof JobForm; message: string } | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const errorId = useId();
  const idBase = useId();
  const set = <K extends keyof JobForm>(key: K, value: JobForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = checkJobForm(form);
    if (!checked.ok) {
      setProblem({ field: checked.field, message: checked.message });
      formRef.current?.querySelector<HTMLElement>(`[name="${checked.field}"]`)?.focus();
      return;
    }
    setProblem(null);
    onSubmit(form);
  };

  const describedBy = (field: keyof JobForm, hint: boolean) =>
    [hint ? `${idBase}-${field}-hint` : null, problem?.field === field ? errorId : null].filter(Boolean).join(" ") || undefined;
  const input = (field: keyof JobForm & string, label: string, hint?: ReactNode, props: Record<string, string> = {}) => (
    <div className="field">
      <label htmlFor={`${idBase}-${field}`}>{label}</label>
      <input
        id={`${idBase}-${field}`}
        name={field}
        inputMode="decimal"
        value={String(form[field])}
        onChange={(e) => set(field, e.target.value as never)}
        aria-invalid={problem?.field === field ? true : undefined}
        aria-describedby={describedBy(field, Boolean(hint))}
        {...props}
      />
      {hint ? <small id={`${idBase}-${field}-hint`}>{hint}</small> : null}
    </div>
  );

  const params = Number(form.params_b);
  const tokens = Number(form.tokens_b);
  const derived = params > 0 && tokens > 0 ? trainingPflopHours(params, tokens) : null;

  return (
    <form ref={formRef} className="form step-form" onSubmit={submit} noValidate aria-label="Plan step by step">
      <fieldset className="step">
        <legend>The job</legend>
        <div className="segmented" role="radiogroup" aria-label="How to give the compute">
          {(
            [
              ["model", "Model and tokens"],
              ["pflop", "PFLOP-hours"],
              ["gpu_hours", "GPU-hours"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="check">
              <input type="radio" name="compute" checked={form.compute === value} onChange={() => set("compute", value)} />
              {label}
            </label>
          ))}
        </div>
        <div className="field-row">
          {form.compute === "model" ? (
            <>
              {input("params_b", "Model size (billions of parameters)", "70 for Llama 3 70B", { placeholder: "70" })}
              {input("tokens_b", "Training tokens (billions)", derived ? `${pflopHours(derived)} (6 × parameters × tokens)` : "2 for 2B tokens", {
                placeholder: "2",
              })}
            </>
          ) : form.compute === "pflop" ? (
            input("pflop_hours", "Useful PFLOP-hours", "The FLOPs the job performs, not the GPUs' peak", { placeholder: "5000" })
          ) : (
            <>
              {input("gpu_hours", "GPU-hours", "Of the reference GPU", { placeholder: "1000" })}
              {input("reference_gpu", "Reference GPU", undefined, { inputMode: "text", placeholder: "H100" })}
            </>
          )}
          <label className="field">
            <span>Precision</span>
            <select name="precision" value={form.precision} onChange={(e) => set("precision", e.target.value as JobForm["precision"])}>
              <option value="bf16">bf16</option>
              <option value="fp16">fp16</option>
              <option value="fp32">fp32</option>
            </select>
          </label>
        </div>
      </fieldset>

      <fieldset className="step">
        <legend>Deadline and budget</legend>
        <div className="segmented" role="radiogroup" aria-label="How to give the deadline">
          <label className="check">
            <input type="radio" name="deadline_mode" checked={form.deadline_mode === "hours"} onChange={() => set("deadline_mode", "hours")} />
            Hours from now
          </label>
          <label className="check">
            <input type="radio" name="deadline_mode" checked={form.deadline_mode === "date"} onChange={() => set("deadline_mode", "date")} />A
            date
          </label>
        </div>
        <div className="field-row">
          {form.deadline_mode === "hours" ? (
            input("deadline_hours", "Done within (hours)", "Counted from the start when you create a cluster", { placeholder: "48" })
          ) : (
            <div className="field">
              <label htmlFor={`${idBase}-deadline`}>Done by</label>
              <input
                id={`${idBase}-deadline`}
                name="deadline"
                type="datetime-local"
                value={form.deadline}
                onChange={(e) => set("deadline", e.target.value)}
                aria-invalid={problem?.field === "deadline" ? true : undefined}
                aria-describedby={describedBy("deadline", true)}
              />
              <small id={`${idBase}-deadline-hint`}>Your local time</small>
            </div>
          )}
          {input("budget_usd", "Budget (USD, optional)", "The most the job may cost", { placeholder: "No limit" })}
        </div>
      </fieldset>

      <fieldset className="step">
        <legend>GPUs and providers</legend>
        <div className="field-row">
          {input("min_vram_gb", "Memory per GPU (GB)", "At least this much on every GPU", { placeholder: "Any" })}
          {input("min_gpus_per_machine", "GPUs per machine (at least)", undefined, { inputMode: "numeric", placeholder: "1" })}
          {input("max_machines", "Machines (at most)", undefined, { inputMode: "numeric", placeholder: String(DEFAULT_MAX_MACHINES) })}
          {input("min_reliability", "Provider reliability (at least, %)", undefined, { placeholder: "Any" })}
          <label className="field">
            <span>Placement</span>
            <select name="placement" value={form.placement} onChange={(e) => set("placement", e.target.value as JobForm["placement"])}>
              {PLACEMENTS.map((p) => (
                <option key={p} value={p}>
                  {placementLabel(p)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label className="check">
          <input type="checkbox" name="spot_allowed" checked={form.spot_allowed} onChange={(e) => set("spot_allowed", e.target.checked)} />
          Spot (interruptible) instances are fine
        </label>
        <label className="check">
          <input type="checkbox" name="sustained" checked={form.sustained} onChange={(e) => set("sustained", e.target.checked)} />
          Serving: keep every machine running until the deadline
        </label>
      </fieldset>
      {problem ? (
        <p id={errorId} className="form-error" role="alert">
          {problem.message}
        </p>
      ) : null}
      <button type="submit" className="button button-primary" disabled={busy}>
        {busy ? "Planning…" : "Plan it"}
      </button>
    </form>
  );
}
