// The query language in the browser: terms, problems with their position, and rewriting one
// field's term while keeping the rest as written.
import { describe, expect, it } from "vitest";

import { formatTerm, formatValue, parseQuery, setTerm, suggestField } from "./query";

describe("parseQuery", () => {
  it("reads every operator, lists, quotes and aliases", () => {
    const { terms, problem } = parseQuery(
      `gpu=H100 num_gpus>=8 price_per_gpu_hour<2.5 country in [US, CA] region~"us east" spot != true provider notin [vastai]`,
    );
    expect(problem).toBeNull();
    expect(terms.map((t) => [t.field, t.op, t.values])).toEqual([
      ["gpu", "=", ["H100"]],
      ["gpu_count", ">=", ["8"]],
      ["price_per_gpu_hour", "<", ["2.5"]],
      ["country", "in", ["US", "CA"]],
      ["region", "~", ["us east"]],
      ["spot", "!=", ["true"]],
      ["provider", "notin", ["vastai"]],
    ]);
    expect(terms[1]!.written).toBe("num_gpus");
  });

  it("keeps each term's place in the text", () => {
    const text = "gpu=A100-80GB  gpu_count>=4";
    const { terms } = parseQuery(text);
    expect(terms.map((t) => text.slice(t.start, t.end))).toEqual(["gpu=A100-80GB", "gpu_count>=4"]);
  });

  it("accepts == and an empty query", () => {
    expect(parseQuery("gpu==H100").terms[0]!.op).toBe("=");
    expect(parseQuery("   ")).toEqual({ terms: [], problem: null });
  });

  it("names an unknown field, suggests the closest and points at it", () => {
    const { problem, terms } = parseQuery("gpu=H100 gpuu_count>=8");
    expect(terms).toHaveLength(1);
    expect(problem?.message).toContain("Unknown field “gpuu_count”");
    expect(problem?.message).toContain("gpu_count");
    expect(problem).toMatchObject({ start: 9, end: 19, field: "gpuu_count" });
  });

  it.each([
    ["gpu>H100", "needs a numeric or time field"],
    ["gpu_count~8", "needs a text field"],
    ["gpu H100", "Expected an operator"],
    ["gpu=", "Expected a value"],
    ["gpu=>H100", "one operator per term"],
    ['region="us east', "Unterminated quoted value"],
    ["country in [US,CA", "Unterminated list"],
    ["country in []", "Empty list"],
    ["country in US", "Expected a list"],
    ["=H100", "Expected a field name"],
  ])("refuses %s", (text, message) => {
    expect(parseQuery(text).problem?.message).toContain(message);
  });
});

describe("writing terms", () => {
  it("quotes values only when they need it", () => {
    expect(formatValue("H100")).toBe("H100");
    expect(formatValue("us east")).toBe('"us east"');
    expect(formatValue('say "hi"')).toBe(`'say "hi"'`);
    expect(formatTerm("country", "in", ["US", "CA"])).toBe("country in [US,CA]");
    expect(formatTerm("region", "~", ["us east"])).toBe('region~"us east"');
  });

  it("replaces every term on a field and keeps the others as written", () => {
    const text = 'gpu=H100 spot=true region~"us  east" spot=yes';
    expect(setTerm(text, "spot", "=", ["false"])).toBe('gpu=H100 region~"us  east" spot=false');
    expect(setTerm(text, "spot", "=", null)).toBe('gpu=H100 region~"us  east"');
    expect(setTerm("", "gpu_count", ">=", ["8"])).toBe("gpu_count>=8");
  });

  it("treats aliases as their field", () => {
    expect(setTerm("num_gpus>=2 gpu=H100", "gpu_count", ">=", ["8"])).toBe("gpu=H100 gpu_count>=8");
  });

  it("leaves text it cannot read at the end, untouched", () => {
    expect(setTerm("gpu=H100 gpuu=1", "spot", "=", ["true"])).toBe("gpu=H100 gpuu=1 spot=true");
  });

  it("suggests fields for typos only", () => {
    expect(suggestField("prise_per_hour")).toBe("price_per_hour");
    expect(suggestField("zzzzzz")).toBeUndefined();
  });
});
