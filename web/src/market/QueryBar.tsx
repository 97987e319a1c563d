// The marketplace's search: a query bar in GP4U's query language (an ARIA 1.2 combobox that
// completes the term under the caret: fields, operators, GPU names) and two quick filters that
// edit the same query. The submitted query lives in the URL (see searchState.ts): submitting
// adds a history entry, and Back or a shared link puts the query back in the bar.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { api } from "../api/client";
import { unwrap, type ApiError } from "../api/errors";
import { acceptCompletion, completionsAt, type CompletionSet } from "./completions";
import { FIELDS } from "./fields";
import { parseQuery, setTerm, termValues, type QueryProblem } from "./query";
import { useSearchState } from "./searchState";

const EXAMPLE = "gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5";
const TRUE = new Set(["true", "yes", "1", "t", "y"]);
const FALSE = new Set(["false", "no", "0", "f", "n"]);
const GPU_COUNTS = ["1", "2", "4", "8"] as const;

/** The value of the "price type" filter for a query: any, on-demand, spot, or custom. */
export function priceTypeOf(q: string): "" | "on-demand" | "spot" | "custom" {
  const { terms } = parseQuery(q);
  const spotTerms = terms.filter((t) => t.field === "spot");
  if (spotTerms.length === 0) return "";
  const value = termValues(spotTerms, "spot", "=")?.[0]?.toLowerCase();
  if (spotTerms.length === 1 && value !== undefined) {
    if (TRUE.has(value)) return "spot";
    if (FALSE.has(value)) return "on-demand";
  }
  return "custom";
}

/** The value of the "GPUs per machine" filter: a minimum count, nothing, or custom. */
export function minGpusOf(q: string): string {
  const { terms } = parseQuery(q);
  const counts = terms.filter((t) => t.field === "gpu_count");
  if (counts.length === 0) return "";
  const min = termValues(counts, "gpu_count", ">=")?.[0];
  return counts.length === 1 && min !== undefined && (GPU_COUNTS as readonly string[]).includes(min) ? min : "custom";
}

/** The quick filter's value when the query says something it cannot show (e.g. spot=false or
 * gpu_count=3): shown, not choosable. */
function AsInQuery() {
  return (
    <option value="custom" disabled>
      As in the query
    </option>
  );
}

function highlight(text: string, problem: QueryProblem) {
  const start = Math.min(problem.start, text.length);
  const end = Math.max(start + 1, Math.min(problem.end, text.length));
  return (
    <code className="query-echo">
      {text.slice(0, start)}
      <mark>{text.slice(start, end) || " "}</mark>
      {text.slice(end)}
    </code>
  );
}

/** GPU names for completion (GET /api/v1/gpus), fetched once the query bar is first used. */
function useGpuNames(enabled: boolean): readonly string[] {
  const gpus = useQuery({
    queryKey: ["gpus"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/gpus", { signal })),
    select: (data) => data.items.map((gpu) => gpu.name),
    staleTime: Infinity,
    enabled,
  });
  return gpus.data ?? NO_GPUS;
}
const NO_GPUS: readonly string[] = [];

export function QueryBar({ serverError }: { serverError?: ApiError | null }) {
  const [state, update] = useSearchState();
  const [draft, setDraft] = useState(state.q);
  const [used, setUsed] = useState(false);
  const gpus = useGpuNames(used);
  const [completions, setCompletions] = useState<CompletionSet | null>(null);
  const [active, setActive] = useState(-1);
  const [caret, setCaret] = useState<number | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  const [problem, setProblem] = useState<{ text: string; problem: QueryProblem } | null>(null);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  // The URL is the truth: Back/Forward, a shared link or a filter control replace the draft.
  useEffect(() => {
    setDraft(state.q);
    setProblem(null);
    setCompletions(null);
  }, [state.q]);

  // After a completion is accepted: put the caret just after it.
  useLayoutEffect(() => {
    if (caret !== null) {
      input.current?.setSelectionRange(caret, caret);
      setCaret(null);
    }
  }, [caret]);

  const suggest = (text: string, at: number | null) => {
    const next = at === null ? null : completionsAt(text, at, gpus);
    setCompletions(next);
    setActive(-1);
  };
  const close = () => {
    setCompletions(null);
    setActive(-1);
  };
  const accept = (index: number) => {
    const item = completions?.items[index];
    if (!completions || !item) return;
    const next = acceptCompletion(draft, completions, item);
    setDraft(next.text);
    setCaret(next.caret);
    suggest(next.text, next.caret);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    const count = completions?.items.length ?? 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!count) {
        suggest(draft, event.currentTarget.selectionStart);
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current) => (current < 0 ? (step > 0 ? 0 : count - 1) : (current + step + count) % count));
    } else if ((event.key === "Enter" || event.key === "Tab") && count && active >= 0) {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape" && count) {
      event.preventDefault(); // keep the text (a search input clears itself on Escape)
      event.stopPropagation(); // and leave an open offer panel open
      close();
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    close();
    const text = draft.trim();
    const parsed = parseQuery(text);
    if (parsed.problem) {
      setProblem({ text, problem: parsed.problem });
      return;
    }
    setProblem(null);
    update({ q: text, offer: null });
  };

  const clear = () => {
    setDraft("");
    setProblem(null);
    update({ q: "", offer: null });
  };

  const priceType = useMemo(() => priceTypeOf(state.q), [state.q]);
  const minGpus = useMemo(() => minGpusOf(state.q), [state.q]);
  const serverMessage = serverError && serverError.isClientError ? serverError.message : null;
  const invalid = problem !== null || serverMessage !== null;

  return (
    <div className="querybar">
      <form role="search" aria-label="Search offers" className="querybar-form" onSubmit={submit}>
        <label htmlFor={inputId} className="querybar-label">
          Query
        </label>
        <div className="querybar-row">
          <div className="querybar-combo">
          <input
            ref={input}
            id={inputId}
            className="querybar-input"
            type="search"
            role="combobox"
            aria-expanded={completions !== null}
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={completions && active >= 0 ? `${listId}-${active}` : undefined}
            value={draft}
            onChange={(e) => {
              setDraft(e.target.value);
              suggest(e.target.value, e.target.selectionStart);
            }}
            onFocus={() => setUsed(true)}
            onBlur={close}
            onKeyDown={onKeyDown}
            placeholder={EXAMPLE}
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            autoComplete="off"
            aria-invalid={invalid}
            aria-describedby={invalid ? `${errorId} ${helpId}` : helpId}
          />
          <ul id={listId} role="listbox" aria-label="Completions" className="completions" hidden={completions === null}>
            {completions?.items.map((item, index) => (
              <li
                key={item.insert}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                className={`completion${index === active ? " is-active" : ""}`}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => accept(index)}
              >
                <code>{item.label}</code>
                {item.detail ? <span className="completion-detail">{item.detail}</span> : null}
              </li>
            ))}
          </ul>
          </div>
          <button type="submit" className="button button-primary">
            Search
          </button>
          {state.q || draft ? (
            <button type="button" className="button" onClick={clear}>
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <div className="querybar-filters">
        <label>
          <span>Price type</span>
          <select
            value={priceType}
            onChange={(e) => {
              const value = e.target.value;
              update({ q: setTerm(state.q, "spot", "=", value ? [value === "spot" ? "true" : "false"] : null), offer: null });
            }}
          >
            <option value="">Any</option>
            <option value="on-demand">On-demand</option>
            <option value="spot">Spot / interruptible</option>
            {priceType === "custom" ? <AsInQuery /> : null}
          </select>
        </label>
        <label>
          <span>GPUs per machine</span>
          <select
            value={minGpus}
            onChange={(e) => {
              const value = e.target.value;
              update({ q: setTerm(state.q, "gpu_count", ">=", value ? [value] : null), offer: null });
            }}
          >
            <option value="">Any</option>
            {GPU_COUNTS.map((n) => (
              <option key={n} value={n}>
                {n} or more
              </option>
            ))}
            {minGpus === "custom" ? <AsInQuery /> : null}
          </select>
        </label>
      </div>
      <div id={errorId} className="querybar-error" role="alert">
        {problem ? (
          <>
            <p>{problem.problem.message}</p>
            {highlight(problem.text, problem.problem)}
          </>
        ) : serverMessage ? (
          <p>{serverMessage}</p>
        ) : null}
      </div>
      <details className="querybar-help">
        <summary id={helpId}>
          Terms like <code>{EXAMPLE}</code>; all must hold.
        </summary>
        <p>
          Operators <code>= != &lt; &lt;= &gt; &gt;= in notin ~</code> (<code>~</code> contains); lists <code>[a,b]</code>;
          quote values with spaces (<code>region~"us east"</code>); <code>field=null</code> tests for a missing value. Prices
          in dollars; GPU names in any provider's spelling.
        </p>
        <dl className="field-list">
          {FIELDS.map((f) => (
            <div key={f.name}>
              <dt>
                <code>{f.name}</code>
              </dt>
              <dd>{f.description}</dd>
            </div>
          ))}
        </dl>
      </details>
    </div>
  );
}
