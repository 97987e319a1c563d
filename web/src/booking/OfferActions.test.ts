// Which offers are booked, launched, or neither (with the reason shown instead).
import { describe, expect, it } from "vitest";

import type { Offer } from "../api/types";
import { actionFor } from "./OfferActions";
import type { ProviderInfo } from "./types";

const offer = (over: Partial<Offer>): Offer => ({ source: "live", provider: "vastai", offer_ref: "x", available: true, ...over }) as Offer;
const provider = (source: string, name: string, launch: string): ProviderInfo =>
  ({ name, provider: name, source, kind: "marketplace", status: "healthy", capabilities: { launch } }) as ProviderInfo;

describe("actionFor", () => {
  it("books host machines by their machine id", () => {
    expect(actionFor(offer({ source: "host", provider: "gp4u", offer_ref: "12" }), undefined)).toEqual({ kind: "book", machineId: 12 });
    expect(actionFor(offer({ source: "host", provider: "gp4u", offer_ref: null }), undefined).kind).toBe("none");
  });

  it("explains simulated and catalog offers without asking the server", () => {
    expect(actionFor(offer({ source: "simulated" }), undefined)).toMatchObject({ kind: "none", reason: expect.stringMatching(/compare prices/) });
    expect(actionFor(offer({ source: "catalog" }), undefined)).toMatchObject({ kind: "none", reason: expect.stringMatching(/comparing/) });
  });

  it("launches offers whose provider can launch here", () => {
    expect(actionFor(offer({}), undefined)).toEqual({ kind: "unknown" });
    expect(actionFor(offer({}), [provider("live", "vastai", "yes")])).toEqual({ kind: "launch" });
    expect(actionFor(offer({ source: "local", provider: "local" }), [provider("local", "local", "yes")])).toEqual({ kind: "launch" });
  });

  it("says why an offer cannot launch", () => {
    expect(actionFor(offer({}), [provider("live", "vastai", "no API key")])).toMatchObject({ reason: expect.stringMatching(/no API key/) });
    expect(actionFor(offer({}), [])).toMatchObject({ reason: expect.stringMatching(/not set up/) });
    expect(actionFor(offer({ available: false }), [provider("live", "vastai", "yes")])).toMatchObject({ reason: expect.stringMatching(/Not available/) });
  });
});
