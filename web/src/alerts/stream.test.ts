// Following the alert stream: events are delivered, a dropped stream is reopened with
// Last-Event-ID after a growing delay, 401 stops it, and stopping closes it.
import { describe, expect, it, vi } from "vitest";

import { backoffDelay, followStream } from "./stream";
import type { SseEvent } from "./sse";

function streamOf(chunks: string[], { endOpen = false } = {}): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (!endOpen) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}

describe("backoffDelay", () => {
  it("doubles from the base up to the cap, with jitter between 75 and 100 %", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, 1000, 30_000, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(10, 1000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(0, 1000, 30_000, () => 0)).toBe(750);
  });
});

describe("followStream", () => {
  it("delivers events and reconnects with the last id after growing delays", async () => {
    const opened: string[] = [];
    const delays: number[] = [];
    const responses = [
      () => streamOf(['id: 5\nevent: notification\ndata: {"id":5}\n\n']),
      () => Promise.reject(new TypeError("network down")),
      () => new Response("busy", { status: 503 }),
      () => streamOf(['id: 6\nevent: notification\ndata: {"id":6}\n\n'], { endOpen: true }),
    ];
    const events: SseEvent[] = [];
    const stop = followStream({
      lastEventId: "4",
      open: async (id) => {
        opened.push(id);
        const next = responses.shift();
        return next ? next() : streamOf([], { endOpen: true });
      },
      onEvent: (e) => events.push(e),
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 1,
    });
    await until(() => events.length === 2);
    stop();
    expect(events.map((e) => e.data)).toEqual(['{"id":5}', '{"id":6}']);
    expect(opened).toEqual(["4", "5", "5", "5"]);
    // after the first stream delivered and ended: 1 s; then the failures double it
    expect(delays).toEqual([1000, 2000, 4000]);
  });

  it("stops for good on 401 and reports it", async () => {
    const refused = vi.fn();
    const open = vi.fn(async () => new Response("{}", { status: 401 }));
    followStream({ open, onEvent: () => undefined, onRefused: refused, sleep: async () => undefined });
    await until(() => refused.mock.calls.length === 1);
    expect(refused).toHaveBeenCalledWith(401);
    expect(open).toHaveBeenCalledTimes(1);
  });

  it("aborts the open connection when stopped and does not reconnect", async () => {
    let signal: AbortSignal | undefined;
    const open = vi.fn(async (_id: string, s: AbortSignal) => {
      signal = s;
      return streamOf([], { endOpen: true });
    });
    const stop = followStream({ open, onEvent: () => undefined, sleep: async () => undefined });
    await until(() => signal !== undefined);
    stop();
    expect(signal?.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(open).toHaveBeenCalledTimes(1);
  });
});
