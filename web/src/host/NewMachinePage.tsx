// List a machine: every term the API takes, checked beside each field before sending; then the
// one-time agent token and the exact `gp4u agent host` command to run on the machine.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { useToast } from "../app/toasts";
import { AgentCommand } from "./AgentCommand";
import { MachineFields } from "./MachineFields";
import { browserTimeZone, emptyForm, toBody, validate, type FormErrors, type MachineForm } from "./machineForm";
import { HOST_KEY } from "./queries";
import type { MachineCreated } from "./types";
import "./host.css";

export function NewMachinePage() {
  const [form, setForm] = useState<MachineForm>(() => emptyForm(browserTimeZone()));
  const [errors, setErrors] = useState<FormErrors>({});
  const [checked, setChecked] = useState(false);
  const [created, setCreated] = useState<MachineCreated | null>(null);
  const summary = useRef<HTMLDivElement>(null);
  const client = useQueryClient();
  const toast = useToast();

  useEffect(() => {
    document.title = created ? `${created.name} listed · GP4U` : "List a machine · GP4U";
  }, [created]);

  const list = useMutation({
    mutationFn: (body: ReturnType<typeof toBody>) => unwrap(api.POST("/api/v1/machines", { body })),
    onSuccess: (machine) => {
      setCreated(machine);
      void client.invalidateQueries({ queryKey: HOST_KEY });
      toast({ kind: "success", title: `${machine.name} listed`, detail: "Start the agent on the machine to make it bookable." });
      window.scrollTo({ top: 0 });
    },
    onError: (error) => {
      const field = error instanceof ApiError ? error.field : undefined;
      if (field) setErrors((current) => ({ ...current, [field]: describeError(error) }));
      toast({ kind: "error", title: "The machine was not listed", detail: describeError(error) });
    },
  });

  const change = (next: MachineForm) => {
    setForm(next);
    if (checked) setErrors(validate(next));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(form);
    setErrors(found);
    setChecked(true);
    if (Object.keys(found).length > 0) {
      summary.current?.focus();
      return;
    }
    list.mutate(toBody(form));
  };

  if (created) {
    return (
      <section className="page host-page" aria-labelledby="listed-title">
        <div className="page-head">
          <h1 id="listed-title">{created.name} is listed</h1>
        </div>
        <p>
          Machine #{created.id}: {created.gpu_count} × {created.gpu_raw_name} at {created.price_per_hour} USD/hour, {created.hours}.
          It becomes bookable once its agent checks in and sees the listed GPUs.
        </p>
        <AgentCommand token={created.agent_token} />
        <div className="actions">
          <Link className="button button-primary" to={`/host/machines/${created.id}`}>
            Open the machine
          </Link>
          <Link className="button" to="/host">
            Back to hosting
          </Link>
        </div>
      </section>
    );
  }

  const problems = Object.keys(errors).length;
  return (
    <section className="page host-page" aria-labelledby="newmachine-title">
      <div className="page-head">
        <h1 id="newmachine-title">List a machine</h1>
        <Link to="/host">Back to hosting</Link>
      </div>
      <p className="muted">
        Fields marked * are required. You get a one-time token for the machine&apos;s agent next; the price and hours can be changed at
        any time (new terms apply to new bookings).
      </p>
      <form className="host-form" onSubmit={submit} noValidate aria-describedby={problems ? "newmachine-problems" : undefined}>
        <div ref={summary} tabIndex={-1} id="newmachine-problems" role={problems ? "alert" : undefined}>
          {checked && problems ? (
            <p className="form-error">
              {problems === 1 ? "One field needs" : `${problems} fields need`} attention: see the messages below.
            </p>
          ) : null}
        </div>
        <MachineFields form={form} errors={errors} onChange={change} />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={list.isPending}>
            {list.isPending ? "Listing…" : "List machine"}
          </button>
        </div>
      </form>
    </section>
  );
}

export default NewMachinePage;
