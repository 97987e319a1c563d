// Checking a typed dollar amount before it is sent: the API takes a decimal string with at most
// two decimal places (cents), above zero and up to a limit; a budget may also be zero.
export type AmountCheck = { ok: true; value: string } | { ok: false; problem: string };

export interface AmountRules {
  max: number;
  /** A budget of $0 blocks all spending; a deposit or withdrawal of $0 makes no sense. */
  allowZero?: boolean;
}

const DECIMAL = /^\d+(\.\d{1,2})?$/;

export function checkAmount(text: string, { max, allowZero = false }: AmountRules): AmountCheck {
  const trimmed = text.trim().replace(/^\$/, "").replace(/,/g, "");
  if (trimmed === "") return { ok: false, problem: "Enter an amount in dollars." };
  if (!DECIMAL.test(trimmed)) return { ok: false, problem: "Use dollars and cents, e.g. 25 or 25.50." };
  const value = Number(trimmed);
  if (value === 0 && !allowZero) return { ok: false, problem: "The amount must be more than $0." };
  if (value > max) return { ok: false, problem: `At most ${usdWhole(max)}.` };
  return { ok: true, value: trimmed };
}

function usdWhole(value: number): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 }).format(value);
}

/** How close a budget is to its limit: the server alerts at 50, 80 and 100 %. */
export type BudgetLevel = "ok" | "near" | "over";

export function budgetLevel(usedPercent: number): BudgetLevel {
  if (usedPercent >= 100) return "over";
  if (usedPercent >= 80) return "near";
  return "ok";
}
