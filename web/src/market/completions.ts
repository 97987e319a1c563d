// Autocomplete for the query bar (pure): what can complete the term under the caret. A field
// name (from fields.json), then its operators, then a value: GPU names for `gpu`, true/false for
// yes-no fields, and the listed values of fields like `source`. Each suggestion replaces the
// whole term under the caret.
import { FIELDS, resolveField, type QueryField } from "./fields";

export interface Completion {
  /** What the list shows. */
  label: string;
  /** The term that replaces the one under the caret. */
  insert: string;
  /** A short explanation (the field's description, or what the operator means). */
  detail?: string;
}

export interface CompletionSet {
  /** [start, end) of the term that an accepted completion replaces. */
  start: number;
  end: number;
  items: Completion[];
}

const MAX_ITEMS = 8;
const OPERATOR_HELP: Readonly<Record<string, string>> = {
  "=": "equals",
  "!=": "does not equal",
  "<": "less than",
  "<=": "at most",
  ">": "more than",
  ">=": "at least",
  "~": "contains",
  " in [": "one of a list",
  " notin [": "none of a list",
};
const SYMBOL_OPS = ["!=", "<=", ">=", "=", "<", ">", "~"] as const;
const TERM_RE = /^([A-Za-z_][A-Za-z0-9_]*)?([!=<>~]*)(.*)$/s;

function operatorsOf(field: QueryField): string[] {
  const ops = ["=", "!="];
  if (field.sortable) ops.push("<", "<=", ">", ">=");
  if (field.kind === "text" || field.kind === "gpu") ops.push("~");
  ops.push(" in [", " notin [");
  return ops;
}

/** Values a field can take, when they are few and known. */
function valuesOf(field: QueryField, gpus: readonly string[]): string[] {
  if (field.kind === "gpu") return [...gpus];
  if (field.kind === "boolean") return ["true", "false"];
  const listed = /^[\w-]+(?: \| [\w-]+)+$/.test(field.description) ? field.description.split(" | ") : [];
  return field.kind === "text" ? listed : [];
}

function startsWith(value: string, prefix: string): boolean {
  return value.toLowerCase().startsWith(prefix.toLowerCase());
}

/** Completions for the term under `caret` in `text`, or null when there is nothing to offer. */
export function completionsAt(text: string, caret: number, gpus: readonly string[] = []): CompletionSet | null {
  const before = text.slice(0, caret);
  const start = before.search(/\S*$/);
  const rest = text.slice(caret);
  // What an accepted completion replaces after the caret: the rest of the part being typed.
  const endOf = (re: RegExp) => caret + (re.exec(rest)?.[0].length ?? 0);
  let end = endOf(/^\S*/);
  const typed = before.slice(start);
  if (/["'[\]]/.test(typed)) return null; // inside a quoted value or a list: no guessing
  const [, name = "", op = "", value = ""] = TERM_RE.exec(typed) ?? [];
  let items: Completion[] = [];

  if (!op) {
    end = endOf(/^[A-Za-z0-9_]*/);
    // A field name (or nothing yet): fields that start with it; an exact field also offers its operators.
    const exact = name ? resolveField(name) : undefined;
    if (exact && exact.name === name.toLowerCase()) {
      items = operatorsOf(exact).map((o) => ({ label: `${exact.name}${o}`, insert: `${exact.name}${o}`, detail: OPERATOR_HELP[o] }));
    }
    const fields = FIELDS.filter((f) => startsWith(f.name, name) && f.name !== exact?.name).map((f) => ({
      label: f.name,
      insert: f.name,
      detail: f.description,
    }));
    items = [...items, ...fields];
  } else {
    const field = resolveField(name);
    if (!field) return null;
    const complete = (SYMBOL_OPS as readonly string[]).includes(op === "==" ? "=" : op);
    const values = complete ? valuesOf(field, gpus) : [];
    if (complete && values.length) {
      items = values.filter((v) => startsWith(v, value) && v.toLowerCase() !== value.toLowerCase()).map((v) => ({ label: v, insert: `${name}${op}${v}` }));
    } else if (!value) {
      end = endOf(/^[!=<>~]*/);
      items = operatorsOf(field)
        .filter((o) => o.startsWith(op) && o !== op)
        .map((o) => ({ label: `${name}${o}`, insert: `${name}${o}`, detail: OPERATOR_HELP[o] }));
    }
  }
  items = items.slice(0, MAX_ITEMS);
  return items.length ? { start, end, items } : null;
}

/** The text with a completion accepted, and where the caret goes (just after it). */
export function acceptCompletion(text: string, set: CompletionSet, item: Completion): { text: string; caret: number } {
  const next = text.slice(0, set.start) + item.insert + text.slice(set.end);
  return { text: next, caret: set.start + item.insert.length };
}
