// One answer of the planner (POST /clusters/plan or the wizard's planning): the least-cost plan's
// members, cost and finish time, why it costs what it does, and the alternatives, each of which
// can be chosen (the form then plans again with that change). Also the answer when no plan exists.
import type { components } from "../api/schema";
import { count, money, number } from "../app/format";
import { duration, finishAt, total } from "./format";

type Schemas = components["schemas"];
export type Planning = Schemas["PlanningOut"];
type Plan = Schemas["PlanOut"];
type Change = Schemas["ChangeOut"];

interface Props {
  planning: Planning;
  /** Choose an alternative; absent when alternatives cannot be applied here. */
  onChoose?: (change: Change) => void;
  headingLevel?: 2 | 3;
}

export function PlanView({ planning, onChoose, headingLevel = 2 }: Props) {
  const H = headingLevel === 2 ? "h2" : "h3";
  const plan = planning.exact;
  if (planning.status !== "planned" || !plan) {
    const why = planning.infeasibility;
    return (
      <div className="plan-view">
        <H>No plan</H>
        <p className="notice notice-stale" role="status">
          {planning.status === "timeout"
            ? "The solver ran out of time before it found a plan. Try fewer machines or a looser deadline."
            : why
              ? why.detail
              : "No set of offers performs this job under these constraints."}
        </p>
        {why?.alternatives.length ? (
          <Alternatives title="What would make it possible" changes={why.alternatives} onChoose={onChoose} H={H} />
        ) : null}
        <MarketLine planning={planning} />
      </div>
    );
  }
  const explanation = planning.explanation;
  return (
    <div className="plan-view">
      <H>Least-cost plan</H>
      <div className="cards plan-stats">
        <Stat label="Total cost" value={total(plan.cost)} note={plan.within_budget ? "Within the budget" : "Over the budget"} />
        <Stat label="Finishes" value={`in ${duration(plan.finish_hours)}`} note={finishAt(plan.finish_hours)} />
        <Stat label="Machines" value={count(plan.machines)} note={`${count(plan.gpus)} GPUs · ${number(plan.scaling * 100, " %")} scaling`} />
        <Stat
          label="Method"
          value={planning.optimal ? "Proven cheapest" : plan.method === "exact" ? "Exact (not proven)" : "Greedy"}
          note={planning.greedy_gap_pct === null ? undefined : `Greedy by G-Score costs ${number(planning.greedy_gap_pct, " %")} more`}
        />
      </div>
      <Members plan={plan} />
      {explanation ? (
        <>
          <H>Why this plan</H>
          <ul className="plan-reasons">
            {explanation.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
          <p>
            <strong>What sets the price:</strong> {explanation.binding_detail}
          </p>
          {explanation.relaxations.length ? (
            <Alternatives title="Alternatives" changes={explanation.relaxations} onChoose={onChoose} H={H} />
          ) : null}
        </>
      ) : null}
      <MarketLine planning={planning} />
      {planning.assumptions.length ? (
        <details className="plan-assumptions">
          <summary>Assumptions behind the estimate</summary>
          <ul>
            {planning.assumptions.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function Stat({ label, value, note }: { label: string; value: string; note?: string | undefined }) {
  return (
    <div className="card stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {note ? <span className="muted stat-note">{note}</span> : null}
    </div>
  );
}

function Members({ plan }: { plan: Plan }) {
  return (
    <div className="table-wrap" role="region" aria-label="Machines in the plan" tabIndex={0}>
      <table className="data-table">
        <caption className="sr-only">Machines in the plan</caption>
        <thead>
          <tr>
            <th scope="col">Offer</th>
            <th scope="col" className="num">
              Machines
            </th>
            <th scope="col" className="num">
              GPUs each
            </th>
            <th scope="col" className="num">
              Hours each
            </th>
            <th scope="col" className="num">
              Price / h
            </th>
            <th scope="col" className="num">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {plan.members.map((m) => (
            <tr key={m.offer_id}>
              <td>
                {m.label}
                {m.measured ? (
                  <span className="badge badge-spot measured-mark" title="Planned at the speed its agent measured">
                    measured
                  </span>
                ) : null}
              </td>
              <td className="num">{count(m.instances)}</td>
              <td className="num">{count(m.gpus_each)}</td>
              <td className="num">{number(m.hours_each)}</td>
              <td className="num">{money(m.price_per_hour)}</td>
              <td className="num">{total(m.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Alternatives({
  title,
  changes,
  onChoose,
  H,
}: {
  title: string;
  changes: Change[];
  onChoose?: ((change: Change) => void) | undefined;
  H: "h2" | "h3";
}) {
  return (
    <section className="plan-alternatives" aria-label={title}>
      <H>{title}</H>
      <ul className="alternative-list">
        {changes.map((change) => (
          <li key={`${change.constraint}-${JSON.stringify(change.changes)}`} className="card alternative">
            <div>
              <strong>{capitalise(change.description)}</strong>
              <p className="muted">
                {change.feasible && change.cost !== null
                  ? [
                      total(change.cost),
                      change.saves !== null && change.saves > 0 ? `saves ${total(change.saves)}` : null,
                      change.finish_hours !== null ? `finishes in ${duration(change.finish_hours)}` : null,
                    ]
                      .filter(Boolean)
                      .join(" · ")
                  : "Still no plan with this change alone."}
              </p>
            </div>
            {onChoose && change.feasible ? (
              <button type="button" className="button" onClick={() => onChoose(change)} aria-label={`Use this: ${change.description}`}>
                Use this
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function MarketLine({ planning }: { planning: Planning }) {
  const m = planning.market;
  return (
    <p className="muted plan-market">
      Looked at {count(m.offers)} available offers: {count(m.eligible)} meet the job's needs, {count(m.candidates)} left for
      the solver.
    </p>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
