// A Server-Sent Events parser for streams read with fetch (EventSource cannot send the bearer
// token). It follows the WHATWG event-stream rules the server uses: lines end in \n, \r\n or \r
// (also split across chunks), ":" starts a comment, `data` lines join with \n, `id` sets the
// last event id (kept even for events without data), and a blank line dispatches.

export interface SseEvent {
  /** "message" when the stream names none. */
  event: string;
  data: string;
  /** The last event id seen so far (what to send as Last-Event-ID on reconnecting). */
  id: string;
}

export interface SseParser {
  /** Feed decoded text; every complete event is passed to `onEvent`. */
  push(text: string): void;
  /** The last event id seen (or the one given at the start). */
  readonly lastEventId: string;
  /** The server's `retry:` in milliseconds, if it sent one. */
  readonly retry: number | null;
}

export function createSseParser(onEvent: (event: SseEvent) => void, lastEventId = ""): SseParser {
  let buffer = "";
  let pendingCR = false; // a chunk ended in \r: a \n starting the next chunk belongs to it
  let data: string[] = [];
  let event = "";
  let id = lastEventId;
  let retry: number | null = null;

  const line = (text: string) => {
    if (text === "") {
      if (data.length > 0) onEvent({ event: event || "message", data: data.join("\n"), id });
      data = [];
      event = "";
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
    else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
  };

  return {
    push(text: string) {
      if (pendingCR && text.startsWith("\n")) text = text.slice(1);
      pendingCR = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const ch = buffer[i];
        if (ch !== "\n" && ch !== "\r") continue;
        line(buffer.slice(start, i));
        if (ch === "\r") {
          if (i + 1 < buffer.length) {
            if (buffer[i + 1] === "\n") i++;
          } else {
            pendingCR = true;
          }
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    get lastEventId() {
      return id;
    },
    get retry() {
      return retry;
    },
  };
}
