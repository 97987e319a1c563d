// Plan a cluster (public): describe the job in words (POST /api/v1/wizard/estimate) or step by
// step (POST /api/v1/clusters/plan), see the least-cost plan, its explanation and alternatives,
// then create it. Everything that decides the plan lives in the URL (`describe`, or the step
// form's fields with `via=form`), so a link, a reload or a detour through the login page comes
// back to the same plan.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { components } from "../api/schema";
import { count, number } from "../app/format";
import { CreateCluster } from "./CreateCluster";
import { pflopHours } from "./format";
import { PlanView } from "./PlanView";
import { StepForm } from "./StepForm";
import { applyChanges, checkJobForm, formFromRequirement, readJobForm, writeJobForm, type JobForm } from "./planState";
import "./clusters.css";

type Wizard = components["schemas"]["WizardOut"];
type Tab = "text" | "form";

const EXAMPLE = "fine-tune Llama 3 70B on 2B tokens by Friday under $3,000";

export function ClusterWizardPage() {
  const [params, setParams] = useSearchParams();
  const tab: Tab = params.get("via") === "form" ? "form" : "text";
  const tabsId = useId();

  useEffect(() => {
    document.title = "Plan a cluster · GP4U";
  }, []);

  const showForm = (form: JobForm) => {
    const next = writeJobForm(params, form);
    next.set("via", "form");
    setParams(next);
  };
  const selectTab = (next: Tab) => {
    const p = new URLSearchParams(params);
    if (next === "form") p.set("via", "form");
    else p.delete("via");
    setParams(p, { replace: true });
  };

  return (
    <section className="page wizard" aria-labelledby="wizard-title">
      <div className="page-head">
        <h1 id="wizard-title">Plan a cluster</h1>
      </div>
      <p className="muted wizard-intro">
        GP4U finds the cheapest set of GPUs across every provider that finishes your job by its deadline, within your budget.
      </p>
      <div className="tabs" role="tablist" aria-label="How to describe the job">
        {(
          [
            ["text", "Describe it"],
            ["form", "Step by step"],
          ] as const
        ).map(([value, label]) => (
          <button
            key={value}
            type="button"
            role="tab"
            id={`${tabsId}-${value}`}
            aria-selected={tab === value}
            aria-controls={`${tabsId}-${value}-panel`}
            tabIndex={tab === value ? 0 : -1}
            onClick={() => selectTab(value)}
            onKeyDown={(e) => {
              if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
                const other = value === "text" ? "form" : "text";
                selectTab(other);
                document.getElementById(`${tabsId}-${other}`)?.focus();
              }
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${tabsId}-${tab}-panel`} aria-labelledby={`${tabsId}-${tab}`}>
        {tab === "text" ? <DescribePanel onEdit={showForm} /> : <FormPanel onChange={showForm} />}
      </div>
    </section>
  );
}

function DescribePanel({ onEdit }: { onEdit: (form: JobForm) => void }) {
  const [params, setParams] = useSearchParams();
  const described = params.get("describe")?.trim() ?? "";
  const [text, setText] = useState(described);
  const inputId = useId();

  const estimate = useQuery({
    queryKey: ["wizard", described],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/wizard/estimate", { body: { text: described, plan: true }, signal })),
    enabled: described.length > 0,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const p = new URLSearchParams(params);
    if (text.trim()) p.set("describe", text.trim());
    else p.delete("describe");
    setParams(p);
  };

  return (
    <>
      <form className="form describe-form" onSubmit={submit} role="search" aria-label="Describe the job">
        <label htmlFor={inputId}>What do you want to run?</label>
        <textarea
          id={inputId}
          rows={3}
          maxLength={2000}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
          }}
          placeholder={EXAMPLE}
        />
        <small className="muted">
          For example: “{EXAMPLE}”. Ctrl+Enter plans it.
        </small>
        <button type="submit" className="button button-primary" disabled={!text.trim() || estimate.isFetching}>
          {estimate.isFetching ? "Planning…" : "Plan it"}
        </button>
      </form>
      {!described ? null : estimate.isPending ? (
        <p className="page-status" role="status">
          Reading your description and planning…
        </p>
      ) : estimate.isError ? (
        <p className="form-error" role="alert">
          Could not plan this: {describeError(estimate.error)}
        </p>
      ) : (
        <WizardResult wizard={estimate.data} onEdit={onEdit} />
      )}
    </>
  );
}

function WizardResult({ wizard, onEdit }: { wizard: Wizard; onEdit: (form: JobForm) => void }) {
  const requirement = wizard.requirement;
  const baseForm = requirement ? formFromRequirement(requirement) : null;
  const checked = baseForm ? checkJobForm(baseForm) : null;
  return (
    <div className="wizard-result" aria-live="polite">
      <section className="card understood" aria-labelledby="understood-title">
        <div className="page-head">
          <h2 id="understood-title">What GP4U understood</h2>
          {baseForm ? (
            <button type="button" className="button" onClick={() => onEdit(baseForm)}>
              Edit these settings
            </button>
          ) : null}
        </div>
        {wizard.understood.length ? (
          <dl className="specs understood-list">
            {wizard.understood.map((u) => (
              <div key={`${u.field}-${u.text}`} className="understood-item">
                <dt>
                  “{u.text}” <span className="muted">→ {u.field.replaceAll("_", " ")}</span>
                </dt>
                <dd>{u.meaning}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p>Nothing in it could be placed.</p>
        )}
        {wizard.not_understood.length ? (
          <p className="muted">
            Not understood (left out, not guessed): {wizard.not_understood.map((w) => `“${w}”`).join(", ")}
          </p>
        ) : null}
        {wizard.remarks.map((r) => (
          <p key={r} className="muted">
            {r}
          </p>
        ))}
        {wizard.missing.length ? (
          <p className="notice notice-simulated" role="status">
            Still needed: {wizard.missing.join("; ")}. Add it to the description or use the step form.
          </p>
        ) : null}
        {wizard.problem && !wizard.missing.length ? (
          <p className="notice notice-stale" role="status">
            {wizard.problem}
          </p>
        ) : null}
        {wizard.estimate ? (
          <>
            <h3>What the job needs</h3>
            <dl className="specs">
              <dt>Compute</dt>
              <dd>
                {pflopHours(wizard.estimate.pflop_hours)} ({wizard.estimate.precision})
              </dd>
              <dt>Memory per GPU</dt>
              <dd>{number(wizard.estimate.min_vram_gb, " GB")}</dd>
              <dt>GPUs per machine</dt>
              <dd>
                {count(wizard.estimate.min_gpus_per_machine)}
                {wizard.estimate.fits_one_machine ? "" : " (does not fit one machine)"}
              </dd>
            </dl>
            <details className="plan-assumptions">
              <summary>How this was estimated</summary>
              <ul>
                {[...wizard.estimate.assumptions, ...wizard.estimate.references].map((a) => (
                  <li key={a}>{a}</li>
                ))}
              </ul>
            </details>
          </>
        ) : null}
      </section>
      {wizard.planning ? (
        <PlanView
          planning={wizard.planning}
          onChoose={baseForm ? (change) => onEdit(applyChanges(baseForm, change.changes)) : undefined}
        />
      ) : null}
      {wizard.planning?.status === "planned" && checked?.ok ? <CreateCluster job={checked.job} /> : null}
    </div>
  );
}

function FormPanel({ onChange }: { onChange: (form: JobForm) => void }) {
  const [params] = useSearchParams();
  const form = readJobForm(params);
  const formKey = writeJobForm(new URLSearchParams(), form).toString();
  const checked = checkJobForm(form);
  const job = checked.ok ? checked.job : null;

  const plan = useQuery({
    queryKey: ["cluster-plan", job],
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/clusters/plan", { body: job!, signal })),
    enabled: job !== null,
    staleTime: 60_000,
  });

  return (
    <>
      <StepForm key={formKey} initial={form} onSubmit={onChange} busy={plan.isFetching} />
      {!job ? (
        <p className="muted empty-plan">Give the job's size and deadline, then plan it.</p>
      ) : plan.isPending ? (
        <p className="page-status" role="status">
          Planning…
        </p>
      ) : plan.isError ? (
        <p className="form-error" role="alert">
          Could not plan this: {describeError(plan.error)}
        </p>
      ) : (
        <div className="wizard-result" aria-live="polite">
          <PlanView planning={plan.data} onChoose={(change) => onChange(applyChanges(form, change.changes))} />
          {plan.data.status === "planned" ? <CreateCluster job={job} /> : null}
        </div>
      )}
    </>
  );
}
