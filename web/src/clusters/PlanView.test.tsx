// A planner answer on screen: the plan's members and totals, an alternative chosen with its
// button, and the reason and way out when there is no plan.
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { PlanView, type Planning } from "./PlanView";

afterEach(cleanup);

const requirement: Planning["requirement"] = {
  pflop_hours: 100,
  precision: "bf16",
  described_as: "100 PFLOP-hours",
  deadline_hours: 24,
  min_vram_gb: 0,
  budget: null,
  spot_allowed: false,
  min_reliability: null,
  placement: "any",
  max_machines: 32,
  min_gpus_per_machine: 1,
  sustained: false,
};
const market = { offers: 10, eligible: 8, candidates: 5, removed: {} };
const spot = {
  constraint: "spot",
  description: "allowing spot instances",
  changes: { spot_allowed: true },
  feasible: true,
  cost: 200,
  saves: 203.11,
  finish_hours: 24,
};

const planned: Planning = {
  status: "planned",
  optimal: true,
  requirement,
  exact: {
    method: "exact",
    cost: 403.111298,
    within_budget: true,
    machines: 1,
    gpus: 8,
    scaling: 1,
    delivered_pflop_hours: 100,
    finish_hours: 17,
    members: [
      {
        offer_id: 7,
        label: "8x H100 80 GB on vastai (quebec)",
        instances: 1,
        gpus_each: 8,
        hours_each: 17,
        price_per_hour: 23.71,
        pflops_each: 6,
        measured: true,
        cost: 403.111298,
      },
    ],
  },
  greedy: null,
  greedy_gap_pct: 14.7,
  market,
  explanation: { reasons: ["1 machine, 8 GPUs"], binding: "spot", binding_detail: "Allowing spot instances would save $203.11.", relaxations: [spot] },
  infeasibility: null,
  assumptions: ["H100 at 40 %"],
  export: null,
};

describe("a plan", () => {
  it("shows its members, total and what sets the price, and lets an alternative be chosen", async () => {
    const onChoose = vi.fn();
    render(<PlanView planning={planned} onChoose={onChoose} />);
    expect(screen.getByText("Total cost").parentElement?.textContent).toContain("$403.11");
    expect(screen.getByRole("cell", { name: /8x H100 80 GB on vastai \(quebec\)/ }).textContent).toContain("measured");
    expect(screen.getByText("Proven cheapest")).toBeTruthy();
    expect(screen.getByText(/saves \$203\.11/)).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Use this: allowing spot instances" }));
    expect(onChoose).toHaveBeenCalledWith(spot);
  });

  it("says why there is no plan and what would make one possible", () => {
    const infeasible: Planning = {
      ...planned,
      status: "infeasible",
      exact: null,
      explanation: null,
      infeasibility: { constraint: "deadline", detail: "No offers finish by the deadline.", alternatives: [{ ...spot, feasible: false, cost: null, saves: null, finish_hours: null }] },
    };
    render(<PlanView planning={infeasible} onChoose={vi.fn()} />);
    expect(screen.getByRole("heading", { name: "No plan" })).toBeTruthy();
    expect(screen.getByText("No offers finish by the deadline.")).toBeTruthy();
    expect(screen.getByText("Still no plan with this change alone.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Use this/ })).toBeNull();
  });
});
