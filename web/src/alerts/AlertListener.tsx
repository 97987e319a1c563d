// Live alerts for the logged-in user wherever they are in the app: follows
// GET /api/v1/alerts/stream (fetch + sse.ts, since EventSource cannot send the bearer token),
// shows each notification as a toast with a link to the matching offers, and refreshes the
// feed, the unread count and the watches. It starts after the newest notification already in
// the feed, resumes with Last-Event-ID after a drop (with back-off), and stops on logout.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";

import { api } from "../api/client";
import { ME_KEY, useMe } from "../auth/useMe";
import { ALERTS_KEY, latestNotificationId, offersLink } from "./queries";
import type { SseEvent } from "./sse";
import { followStream } from "./stream";
import type { Notification } from "./types";
import "./live.css";

/** At most this many alert toasts at once (the oldest goes first). */
const SHOWN = 3;

const TITLES: Record<string, string> = {
  price_below: "Price alert",
  budget: "Budget alert",
  session_ended: "Session ended",
  session_ending_soon: "Session ending soon",
  session_destroy_delayed: "Session needs attention",
};

export function parseNotification(event: SseEvent): Notification | null {
  if (event.event !== "notification") return null;
  try {
    const note = JSON.parse(event.data) as Partial<Notification>;
    return typeof note.id === "number" && typeof note.message === "string" && typeof note.kind === "string" ? (note as Notification) : null;
  } catch {
    return null;
  }
}

export function AlertListener() {
  const me = useMe();
  const client = useQueryClient();
  const userId = me.data?.id ?? null;
  const [notes, setNotes] = useState<Notification[]>([]);

  useEffect(() => {
    setNotes([]);
    if (userId === null) return;
    const controller = new AbortController();
    let stop: (() => void) | undefined;
    void latestNotificationId(controller.signal)
      .then(String, () => "") // without it the server starts at its newest anyway
      .then((lastEventId) => {
        if (controller.signal.aborted) return;
        stop = followStream({
          lastEventId,
          open: async (id, signal) => {
            const { response } = await api.GET("/api/v1/alerts/stream", {
              params: { header: id ? { "last-event-id": Number(id) } : {} },
              parseAs: "stream",
              signal,
            });
            return response;
          },
          onEvent: (event) => {
            const note = parseNotification(event);
            if (!note) return;
            setNotes((current) => [...current.slice(1 - SHOWN), note]);
            void client.invalidateQueries({ queryKey: ALERTS_KEY });
            if (note.kind === "budget") void client.invalidateQueries({ queryKey: ["wallet"] });
          },
          onRefused: () => void client.invalidateQueries({ queryKey: ME_KEY }),
        });
      });
    return () => {
      controller.abort();
      stop?.();
    };
  }, [userId, client]);

  const dismiss = useCallback((id: number) => setNotes((current) => current.filter((n) => n.id !== id)), []);

  return (
    <div className="alert-toasts" role="status" aria-live="polite" aria-label="Live alerts">
      {notes.map((note) => (
        <AlertToast key={note.id} note={note} onDismiss={dismiss} />
      ))}
    </div>
  );
}

function AlertToast({ note, onDismiss }: { note: Notification; onDismiss: (id: number) => void }) {
  const title = TITLES[note.kind] ?? "Notification";
  const query = typeof note.payload.query === "string" ? note.payload.query : null;
  const offerId = typeof note.payload.offer_id === "number" ? note.payload.offer_id : null;
  return (
    <div className="toast toast-info alert-toast" data-testid="alert-toast">
      <div className="toast-text">
        <strong>{title}</strong>
        <span>{note.message}</span>
        <span className="alert-toast-links">
          {query !== null ? (
            <Link to={offersLink(query, offerId)} onClick={() => onDismiss(note.id)}>
              See offers
            </Link>
          ) : null}
          <Link to="/alerts" onClick={() => onDismiss(note.id)}>
            All notifications
          </Link>
        </span>
      </div>
      <button type="button" className="button button-quiet toast-close" onClick={() => onDismiss(note.id)} aria-label={`Dismiss: ${title}`}>
        ×
      </button>
    </div>
  );
}
