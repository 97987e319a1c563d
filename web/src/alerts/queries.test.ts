// Links from an alert to the marketplace, and the suggested alert threshold.
import { describe, expect, it } from "vitest";

import { offersLink, suggestThreshold } from "./queries";

describe("offersLink", () => {
  it("opens the marketplace on the watch's query, and on the offer when known", () => {
    expect(offersLink("gpu=H100 gpu_count=8")).toBe("/?q=gpu%3DH100+gpu_count%3D8");
    expect(offersLink("gpu=A100", 42)).toBe("/?q=gpu%3DA100&offer=42");
    expect(offersLink("")).toBe("/");
  });
});

describe("suggestThreshold", () => {
  it("suggests 10 % under the cheapest price, down to the cent, never zero", () => {
    expect(suggestThreshold(2.0)).toBe("1.80");
    expect(suggestThreshold(1.999)).toBe("1.79");
    expect(suggestThreshold(0.005)).toBe("0.01");
  });

  it("suggests nothing without a price", () => {
    expect(suggestThreshold(null)).toBe("");
    expect(suggestThreshold(undefined)).toBe("");
    expect(suggestThreshold(0)).toBe("");
  });
});
