// Price alerts: your watches (query, threshold, the latest best price, when each last fired)
// with create and delete, and the notification feed (price alerts, budget and session notices)
// with its unread count and marking read. New notifications arrive live (AlertListener).
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "react-router";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import { age, dateTime, money } from "../app/format";
import { useToast } from "../app/toasts";
import { ConfirmDialog } from "../app/ConfirmDialog";
import { offersLink, useNotifications, useRefreshAlerts, useUnreadCount, useWatches } from "./queries";
import type { Notification, Watch } from "./types";
import { WatchDialog } from "./WatchDialog";
import "./alerts.css";

export function AlertsPage() {
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    document.title = "Price alerts · GP4U";
  }, []);
  return (
    <section className="page alerts-page" aria-labelledby="alertspage-title">
      <div className="page-head">
        <h1 id="alertspage-title">Price alerts</h1>
        <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
          New alert
        </button>
      </div>
      <p className="muted">
        An alert fires once when the cheapest offer matching its query drops to or below its price, and again after the price has risen
        above it and crossed back. Tip: search the marketplace, then use “Alert me”.
      </p>
      <div className="alerts-grid">
        <WatchesSection onCreate={() => setCreating(true)} />
        <FeedSection />
      </div>
      {creating ? <WatchDialog onClose={() => setCreating(false)} /> : null}
    </section>
  );
}

function WatchesSection({ onCreate }: { onCreate: () => void }) {
  const watches = useWatches();
  const [deleting, setDeleting] = useState<Watch | null>(null);
  return (
    <section className="card alerts-section" aria-labelledby="watches-title">
      <h2 id="watches-title">Your alerts</h2>
      {watches.isPending ? <p role="status">Loading alerts…</p> : null}
      {watches.isError ? (
        <p className="form-error" role="alert">
          Could not load your alerts: {describeError(watches.error)}
        </p>
      ) : null}
      {watches.data && watches.data.items.length === 0 ? (
        <div className="empty">
          <p>No alerts yet.</p>
          <button type="button" className="button" onClick={onCreate}>
            Create your first alert
          </button>
        </div>
      ) : null}
      {watches.data && watches.data.items.length > 0 ? (
        <ul className="watch-list">
          {watches.data.items.map((watch) => (
            <WatchItem key={watch.id} watch={watch} onDelete={() => setDeleting(watch)} />
          ))}
        </ul>
      ) : null}
      {deleting ? <DeleteWatch watch={deleting} onClose={() => setDeleting(null)} /> : null}
    </section>
  );
}

function WatchItem({ watch, onDelete }: { watch: Watch; onDelete: () => void }) {
  const titleId = `watch-${watch.id}-title`;
  return (
    <li className="watch" aria-labelledby={titleId}>
      <div className="watch-top">
        <h3 id={titleId}>{watch.name}</h3>
        <span className={`state ${watch.firing ? "state-good" : ""}`}>{watch.firing ? "Price is below" : "Watching"}</span>
      </div>
      <dl className="watch-facts">
        <div>
          <dt>Query</dt>
          <dd>
            <code>{watch.query || "every offer"}</code>
          </dd>
        </div>
        <div>
          <dt>At or below</dt>
          <dd>{money(watch.max_price_per_gpu_hour)}/GPU-hour</dd>
        </div>
        <div>
          <dt>Best now</dt>
          <dd>
            {watch.last_price_per_gpu_hour !== null
              ? `${money(watch.last_price_per_gpu_hour)}/GPU-hour`
              : watch.evaluated_at === null
                ? "checked at the next market update"
                : "no matching offer"}
          </dd>
        </div>
        <div>
          <dt>Last fired</dt>
          <dd>
            {watch.last_fired_at ? (
              <time dateTime={watch.last_fired_at} title={dateTime(watch.last_fired_at)}>
                {age(watch.last_fired_at)}
              </time>
            ) : (
              "never"
            )}
            {watch.fired_count > 1 ? ` (${watch.fired_count} times)` : ""}
          </dd>
        </div>
        {watch.webhook_url ? (
          <div>
            <dt>Webhook</dt>
            <dd className="watch-url">{watch.webhook_url}</dd>
          </div>
        ) : null}
      </dl>
      <div className="actions">
        <Link className="button button-quiet" to={offersLink(watch.query, watch.firing ? watch.last_offer_id : null)} aria-label={`See offers for ${watch.name}`}>
          See offers
        </Link>
        <button type="button" className="button button-quiet button-danger" onClick={onDelete} aria-label={`Delete alert ${watch.name}`}>
          Delete
        </button>
      </div>
    </li>
  );
}

function DeleteWatch({ watch, onClose }: { watch: Watch; onClose: () => void }) {
  const toast = useToast();
  const refresh = useRefreshAlerts();
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/alerts/{watch_id}", { params: { path: { watch_id: watch.id } } })),
    onSuccess: () => {
      void refresh();
      toast({ kind: "success", title: "Alert deleted", detail: watch.name });
      onClose();
    },
    onError: (error) => toast({ kind: "error", title: "Could not delete the alert", detail: describeError(error) }),
  });
  return (
    <ConfirmDialog
      title="Delete this alert?"
      confirmLabel="Delete alert"
      busy={remove.isPending}
      onConfirm={() => remove.mutate()}
      onClose={onClose}
    >
      <p>“{watch.name}” will stop watching prices. Its past notifications stay in the feed.</p>
    </ConfirmDialog>
  );
}

function FeedSection() {
  const feed = useNotifications();
  const unread = useUnreadCount();
  const toast = useToast();
  const refresh = useRefreshAlerts();
  const markAll = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/alerts/notifications/read")),
    onSuccess: (done) => {
      void refresh();
      toast({ kind: "success", title: done.marked === 1 ? "1 notification marked read" : `${done.marked} notifications marked read` });
    },
    onError: (error) => toast({ kind: "error", title: "Could not mark notifications read", detail: describeError(error) }),
  });
  const unreadCount = unread.data ?? 0;
  return (
    <section className="card alerts-section" aria-labelledby="feed-title">
      <div className="section-head">
        <h2 id="feed-title">
          Notifications{" "}
          {unreadCount > 0 ? (
            <span className="unread-pill" data-testid="unread-count">
              {unreadCount} unread
            </span>
          ) : null}
        </h2>
        <button type="button" className="button" onClick={() => markAll.mutate()} disabled={markAll.isPending || unreadCount === 0}>
          Mark all read
        </button>
      </div>
      {feed.isPending ? <p role="status">Loading notifications…</p> : null}
      {feed.isError ? (
        <p className="form-error" role="alert">
          Could not load notifications: {describeError(feed.error)}
        </p>
      ) : null}
      {feed.data && feed.data.items.length === 0 ? <p className="empty">No notifications yet. New ones appear here as they happen.</p> : null}
      {feed.data && feed.data.items.length > 0 ? (
        <ol className="feed" aria-label="Notifications, newest first">
          {feed.data.items.map((note) => (
            <FeedItem key={note.id} note={note} />
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function noteQuery(note: Notification): string | null {
  const query = note.payload.query;
  return note.kind === "price_below" && typeof query === "string" ? query : null;
}

function FeedItem({ note }: { note: Notification }) {
  const toast = useToast();
  const refresh = useRefreshAlerts();
  const read = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/alerts/notifications/{note_id}/read", { params: { path: { note_id: note.id } } })),
    onSuccess: () => void refresh(),
    onError: (error) => toast({ kind: "error", title: "Could not mark the notification read", detail: describeError(error) }),
  });
  const query = noteQuery(note);
  const offerId = typeof note.payload.offer_id === "number" ? note.payload.offer_id : null;
  return (
    <li className={`feed-item${note.read ? "" : " feed-unread"}`}>
      <div className="feed-text">
        <span className="sr-only">{note.read ? "Read: " : "Unread: "}</span>
        <span className="feed-message">{note.message}</span>
        <span className="muted">
          <time dateTime={note.created_at} title={dateTime(note.created_at)}>
            {age(note.created_at)}
          </time>
        </span>
      </div>
      <div className="actions">
        {query !== null ? (
          <Link className="button button-quiet" to={offersLink(query, offerId)}>
            See offers
          </Link>
        ) : null}
        {note.read ? null : (
          <button type="button" className="button button-quiet" onClick={() => read.mutate()} disabled={read.isPending} aria-label={`Mark read: ${note.message}`}>
            Mark read
          </button>
        )}
      </div>
    </li>
  );
}
