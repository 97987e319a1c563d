// Autocomplete of the query bar: fields, then operators, then values, for the term under the caret.
import { describe, expect, it } from "vitest";

import { acceptCompletion, completionsAt } from "./completions";

const GPUS = ["A100", "H100", "H200", "L4"];
const labels = (text: string, caret = text.length) => completionsAt(text, caret, GPUS)?.items.map((i) => i.label) ?? [];

describe("query completions", () => {
  it("completes field names from their first letters", () => {
    expect(labels("gpu_c")).toEqual(["gpu_count"]);
    expect(labels("price_per_g")).toEqual(["price_per_gpu_hour"]);
    expect(labels("gpu=H100 reg")).toEqual(["region"]);
    expect(labels("zzz")).toEqual([]);
  });

  it("offers an exact field's operators, only those its kind allows", () => {
    const ops = labels("gpu_count");
    expect(ops).toContain("gpu_count>=");
    expect(ops).not.toContain("gpu_count~");
    expect(labels("region")).toContain("region~");
    expect(labels("region")).not.toContain("region<");
    expect(labels("gpu_count>")).toEqual(["gpu_count>="]);
  });

  it("completes values: GPU names, yes-no and listed values", () => {
    expect(labels("gpu=H")).toEqual(["H100", "H200"]);
    expect(labels("gpu=h1")).toEqual(["H100"]);
    expect(labels("spot=")).toEqual(["true", "false"]);
    expect(labels("source=s")).toEqual(["simulated"]);
    expect(labels('region~"us')).toEqual([]);
  });

  it("completes the term under the caret, not the end of the text", () => {
    const text = "gpu=H1 gpu_count>=8";
    const set = completionsAt(text, 6, GPUS)!;
    expect(set.items.map((i) => i.label)).toEqual(["H100"]);
    expect(acceptCompletion(text, set, set.items[0]!)).toEqual({ text: "gpu=H100 gpu_count>=8", caret: 8 });
    const middle = completionsAt("gpu_c>=8 spot=true", 3, GPUS)!;
    expect(acceptCompletion("gpu_c>=8 spot=true", middle, middle.items.find((i) => i.label === "gpu_count")!).text).toBe(
      "gpu_count>=8 spot=true",
    );
  });
});
