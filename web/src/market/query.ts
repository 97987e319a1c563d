// The offer query language in the browser (pure): `field op value` terms joined by spaces, e.g.
//   gpu=H100 gpu_count>=8 price_per_gpu_hour<2.5 country in [US,CA] region~"us east"
// It mirrors the server's scanner (src/gp4u/offers/query.py) closely enough to point at a bad
// term before a search is sent, and to let filter controls rewrite one field's term while
// keeping the rest of the text as the user wrote it. The server stays the judge of values.
import { FIELD_NAMES, isTextKind, resolveField } from "./fields";

export const OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "in", "notin", "~"] as const;
export type Operator = (typeof OPERATORS)[number];

const RANGE_OPS: ReadonlySet<Operator> = new Set(["<", "<=", ">", ">="]);
const LIST_OPS: ReadonlySet<Operator> = new Set(["in", "notin"]);
const FIELD_RE = /[A-Za-z_][A-Za-z0-9_]*/y;
const WORD_OP_RE = /(notin|in)(?=[\s["'])/iy;
const SYMBOL_OP_RE = /!=|<=|>=|==|=|<|>|~/y;
const PLAIN_VALUE_RE = /^[^\s"'[\],=<>!~]+$/;

export interface Term {
  /** The canonical field name (aliases resolved). */
  field: string;
  /** The field as written. */
  written: string;
  op: Operator;
  values: string[];
  /** [start, end) of the whole term in the text. */
  start: number;
  end: number;
}

export interface QueryProblem {
  message: string;
  /** [start, end) of the offending text. */
  start: number;
  end: number;
  field?: string;
}

export interface ParsedQuery {
  terms: Term[];
  /** The first problem found (parsing stops there), or null. */
  problem: QueryProblem | null;
}

class Problem extends Error {
  constructor(readonly problem: QueryProblem) {
    super(problem.message);
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest field name to a misspelt one, when one is close enough to suggest. */
export function suggestField(written: string): string | undefined {
  const lower = written.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(lower.length / 3)) + 1;
  for (const name of FIELD_NAMES) {
    const distance = editDistance(lower, name);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  fail(message: string, start = this.pos, end = Math.min(this.text.length, start + 1), field?: string): Problem {
    return new Problem({ message, start, end: Math.max(end, start), ...(field ? { field } : {}) });
  }

  match(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const found = re.exec(this.text);
    if (!found) return null;
    this.pos = re.lastIndex;
    return found[0];
  }

  readOperator(field: string): Operator {
    this.skipSpace();
    const start = this.pos;
    WORD_OP_RE.lastIndex = this.pos;
    const word = WORD_OP_RE.exec(this.text);
    if (word) {
      this.pos = WORD_OP_RE.lastIndex;
      return word[1]!.toLowerCase() as Operator;
    }
    const symbol = this.match(SYMBOL_OP_RE);
    if (!symbol) {
      throw this.fail(`Expected an operator after “${field}” (${OPERATORS.join(" ")})`, start, start + 1, field);
    }
    return symbol === "==" ? "=" : (symbol as Operator);
  }

  readScalar(stop = ""): string {
    this.skipSpace();
    const start = this.pos;
    const quote = this.text[this.pos];
    if (quote === '"' || quote === "'") {
      const end = this.text.indexOf(quote, this.pos + 1);
      if (end < 0) throw this.fail("Unterminated quoted value", start, this.text.length);
      this.pos = end + 1;
      return this.text.slice(start + 1, end);
    }
    while (this.pos < this.text.length && !/\s/.test(this.text[this.pos]!) && !stop.includes(this.text[this.pos]!)) {
      this.pos++;
    }
    if (this.pos === start) throw this.fail("Expected a value", start);
    const value = this.text.slice(start, this.pos);
    if ("=<>!~".includes(value[0]!)) {
      throw this.fail(`Expected a value, got “${value}”: one operator per term`, start, this.pos);
    }
    return value;
  }

  readList(): string[] {
    this.skipSpace();
    const start = this.pos;
    if (this.text[this.pos] !== "[") throw this.fail("Expected a list like [a,b] after in/notin", start);
    this.pos++;
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "]") {
        this.pos++;
        break;
      }
      if (this.pos >= this.text.length) throw this.fail("Unterminated list: missing ]", start, this.text.length);
      items.push(this.readScalar(",]"));
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.pos >= this.text.length) throw this.fail("Unterminated list: missing ]", start, this.text.length);
    }
    if (items.length === 0) throw this.fail("Empty list", start, this.pos);
    return items;
  }
}

function checkOperator(scanner: Scanner, field: string, op: Operator, start: number): void {
  const spec = resolveField(field)!;
  if (RANGE_OPS.has(op) && !spec.sortable) {
    throw scanner.fail(`Operator “${op}” needs a numeric or time field; “${spec.name}” is ${spec.kind}`, start, scanner.pos, spec.name);
  }
  if (op === "~" && !isTextKind(spec.kind)) {
    throw scanner.fail(`Operator “~” (contains) needs a text field; “${spec.name}” is ${spec.kind}`, start, scanner.pos, spec.name);
  }
}

/** Split a query into terms; stops at the first problem and says where it is. */
export function parseQuery(text: string): ParsedQuery {
  const scanner = new Scanner(text);
  const terms: Term[] = [];
  try {
    while (!scanner.atEnd()) {
      const start = scanner.pos;
      const written = scanner.match(FIELD_RE);
      if (written === null) {
        const snippet = text.slice(start, start + 20);
        throw scanner.fail(`Expected a field name at “${snippet}”`, start, start + Math.max(1, snippet.search(/\s|$/)));
      }
      const spec = resolveField(written);
      if (!spec) {
        const hint = suggestField(written);
        const advice = hint ? ` Did you mean “${hint}”?` : " See the list of fields.";
        throw scanner.fail(`Unknown field “${written}”.${advice}`, start, scanner.pos, written);
      }
      const op = scanner.readOperator(spec.name);
      checkOperator(scanner, spec.name, op, start);
      const values = LIST_OPS.has(op) ? scanner.readList() : [scanner.readScalar()];
      terms.push({ field: spec.name, written, op, values, start, end: scanner.pos });
    }
    return { terms, problem: null };
  } catch (error) {
    if (error instanceof Problem) return { terms, problem: error.problem };
    throw error;
  }
}

/** A value as it must be written: quoted when it has spaces or the language's own characters. */
export function formatValue(value: string): string {
  if (PLAIN_VALUE_RE.test(value)) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

export function formatTerm(field: string, op: Operator, values: readonly string[]): string {
  if (LIST_OPS.has(op)) return `${field} ${op} [${values.map(formatValue).join(",")}]`;
  return `${field}${op}${formatValue(values[0] ?? "")}`;
}

/**
 * The query with every term on `field` removed and, unless `values` is null or empty, one new
 * term `field op values` appended. Other terms keep their spelling; text the parser could not
 * read (after a problem) is kept at the end as it was.
 */
export function setTerm(text: string, field: string, op: Operator, values: readonly string[] | null): string {
  const { terms, problem } = parseQuery(text);
  const kept = terms.filter((t) => t.field !== field).map((t) => text.slice(t.start, t.end));
  const unread = problem ? text.slice(terms.length ? terms[terms.length - 1]!.end : 0).trim() : "";
  const parts = [...kept, ...(unread ? [unread] : [])];
  if (values !== null && values.length > 0) parts.push(formatTerm(field, op, values));
  return parts.join(" ");
}

/** The values of the first term on `field` with operator `op`, if any. */
export function termValues(terms: readonly Term[], field: string, op: Operator): string[] | undefined {
  return terms.find((t) => t.field === field && t.op === op)?.values;
}
