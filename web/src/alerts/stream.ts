// Following a Server-Sent Events stream over fetch: read it, parse it (sse.ts), and when it ends
// or fails reconnect with Last-Event-ID after a growing, jittered delay (1 s doubling to 30 s, or
// the server's `retry`), until stopped. A 401 or 403 ends it: the login is gone.
import { createSseParser, type SseEvent } from "./sse";

export interface FollowOptions {
  /** Open the stream, sending `lastEventId` as Last-Event-ID when it is not empty. */
  open: (lastEventId: string, signal: AbortSignal) => Promise<Response>;
  onEvent: (event: SseEvent) => void;
  /** The stream was refused for good (401 or 403): following has stopped. */
  onRefused?: (status: number) => void;
  lastEventId?: string;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Injected by tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** The wait before reconnect attempt `attempt` (0-based): doubling, capped, 75-100 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(capped * (0.75 + 0.25 * random()));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Start following; returns the function that stops it (and closes the connection). */
export function followStream(options: FollowOptions): () => void {
  const controller = new AbortController();
  void run(options, controller.signal);
  return () => controller.abort();
}

async function run(options: FollowOptions, signal: AbortSignal): Promise<void> {
  const { open, onEvent, onRefused, minDelayMs = 1_000, maxDelayMs = 30_000, sleep = abortableSleep, random = Math.random } = options;
  const parser = createSseParser((event) => {
    if (!signal.aborted) onEvent(event);
  }, options.lastEventId ?? "");
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const response = await open(parser.lastEventId, signal);
      if (response.status === 401 || response.status === 403) {
        onRefused?.(response.status);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          attempt = 0; // it delivered: a later drop starts the back-off afresh
          parser.push(decoder.decode(value, { stream: true }));
        }
      } finally {
        reader.releaseLock();
      }
    } catch {
      // a network failure or an abort: retried below unless stopped
    }
    if (signal.aborted) return;
    await sleep(backoffDelay(attempt++, parser.retry ?? minDelayMs, maxDelayMs, random), signal);
  }
}
