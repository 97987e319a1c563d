// Creating a price alert: a query in the marketplace's language, the $/GPU-hour at or below
// which to fire (suggested 10 % under today's cheapest match), an optional name and webhook URL.
// A webhook's signing secret is shown once, right after creation, to copy.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import { CopyButton } from "../app/CopyButton";
import { Dialog } from "../app/Dialog";
import { money } from "../app/format";
import { useToast } from "../app/toasts";
import { suggestThreshold, useRefreshAlerts } from "./queries";
import type { WatchCreated } from "./types";

function cheapestQuery(query: string) {
  return {
    queryKey: ["offers", "cheapest", query],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      unwrap(api.GET("/api/v1/offers", { params: { query: { q: query || undefined, sort: "price_per_gpu_hour", limit: 1 } }, signal })).then(
        (page) => page.items[0]?.price_per_gpu_hour ?? null,
      ),
    staleTime: 30_000,
    retry: false,
  };
}

export function WatchDialog({ initialQuery = "", onClose }: { initialQuery?: string; onClose: () => void }) {
  const toast = useToast();
  const refresh = useRefreshAlerts();
  const id = useId();
  const [query, setQuery] = useState(initialQuery);
  const [threshold, setThreshold] = useState("");
  const [thresholdEdited, setThresholdEdited] = useState(false);
  const [name, setName] = useState("");
  const [webhook, setWebhook] = useState("");
  const [created, setCreated] = useState<WatchCreated | null>(null);
  const cheapest = useQuery(cheapestQuery(initialQuery));

  useEffect(() => {
    if (!thresholdEdited && cheapest.data) setThreshold(suggestThreshold(cheapest.data));
  }, [cheapest.data, thresholdEdited]);

  const price = Number(threshold);
  const thresholdProblem = threshold.trim() === "" ? "Enter a price." : !(price > 0) ? "The price must be more than $0." : null;
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/alerts", {
          body: { query: query.trim(), max_price_per_gpu_hour: price, name: name.trim() || null, webhook_url: webhook.trim() || null },
        }),
      ),
    onSuccess: (watch) => {
      void refresh();
      toast({ kind: "success", title: "Alert created", detail: `${watch.name}: at or below ${money(watch.max_price_per_gpu_hour)}/GPU-hour` });
      if (watch.webhook_secret) setCreated(watch);
      else onClose();
    },
    onError: (error) => toast({ kind: "error", title: "Could not create the alert", detail: describeError(error) }),
  });
  const [submitted, setSubmitted] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!thresholdProblem) create.mutate();
  };
  const serverField = create.error instanceof ApiError ? create.error.field : undefined;

  if (created?.webhook_secret) {
    return (
      <Dialog
        title="Alert created"
        onClose={onClose}
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <p>Each alert is also POSTed to your webhook, signed with this secret (header X-GP4U-Signature). It is shown only now: copy it.</p>
        <label className="field" htmlFor={`${id}-secret`}>
          <span>Webhook secret</span>
          <input id={`${id}-secret`} readOnly value={created.webhook_secret} onFocus={(event) => event.target.select()} />
        </label>
        <p className="actions">
          <CopyButton text={created.webhook_secret ?? ""} what="the webhook secret" />
        </p>
      </Dialog>
    );
  }

  return (
    <Dialog
      title="New price alert"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={`${id}-form`} className="button button-primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create alert"}
          </button>
        </>
      }
    >
      <form id={`${id}-form`} className="form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-query`}>Offers to watch</label>
        <input
          id={`${id}-query`}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder="gpu=H100 gpu_count=8 spot=false"
          aria-describedby={`${id}-query-help`}
          aria-invalid={serverField === "query"}
          autoComplete="off"
          spellCheck={false}
        />
        <small id={`${id}-query-help`} className="muted">
          A marketplace query; empty watches every offer.
        </small>
        <label htmlFor={`${id}-price`}>Alert at or below ($ per GPU-hour)</label>
        <input
          id={`${id}-price`}
          inputMode="decimal"
          value={threshold}
          onChange={(event) => {
            setThreshold(event.target.value);
            setThresholdEdited(true);
          }}
          aria-invalid={(submitted && thresholdProblem !== null) || serverField === "max_price_per_gpu_hour"}
          aria-describedby={`${id}-price-help`}
          autoComplete="off"
          autoFocus
        />
        <small id={`${id}-price-help`} className="muted">
          {submitted && thresholdProblem
            ? thresholdProblem
            : cheapest.isPending
              ? "Looking up today's cheapest matching price…"
              : cheapest.data
                ? `Cheapest match now: ${money(cheapest.data)}/GPU-hour (suggested: 10 % under it).`
                : "No current price for this query to suggest from."}
        </small>
        <label htmlFor={`${id}-name`}>Name (optional)</label>
        <input id={`${id}-name`} value={name} onChange={(event) => setName(event.target.value)} maxLength={200} autoComplete="off" />
        <label htmlFor={`${id}-webhook`}>Webhook URL (optional)</label>
        <input
          id={`${id}-webhook`}
          type="url"
          value={webhook}
          onChange={(event) => setWebhook(event.target.value)}
          placeholder="https://example.com/gp4u-alerts"
          aria-invalid={serverField === "webhook_url"}
          autoComplete="off"
        />
        {create.isError ? (
          <p className="form-error" role="alert">
            {describeError(create.error)}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
