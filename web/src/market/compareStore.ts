// The offers picked for comparison (at most four), kept in localStorage so the picks survive a
// reload, a visit to another page and are the same in every tab. Each pick keeps what the tray
// shows, so the tray needs no request of its own.
import { useSyncExternalStore } from "react";

import type { Offer } from "../api/types";
import { gpuLabel } from "../app/format";

export const MAX_COMPARE = 4;
const KEY = "gp4u.compare";

export interface Pick {
  id: number;
  label: string;
  provider: string;
  price_per_gpu_hour: number;
}

export type ToggleOutcome = "added" | "removed" | "full";

const listeners = new Set<() => void>();
let cached: { raw: string | null; picks: readonly Pick[] } = { raw: null, picks: [] };

function parse(raw: string | null): readonly Pick[] {
  if (!raw) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    return value
      .filter((p): p is Pick => typeof p === "object" && p !== null && Number.isSafeInteger((p as Pick).id) && typeof (p as Pick).label === "string")
      .slice(0, MAX_COMPARE);
  } catch {
    return [];
  }
}

export function readPicks(): readonly Pick[] {
  let raw: string | null = null;
  try {
    raw = window.localStorage.getItem(KEY);
  } catch {
    raw = null;
  }
  if (raw !== cached.raw) cached = { raw, picks: parse(raw) };
  return cached.picks;
}

export function writePicks(picks: readonly Pick[]): void {
  try {
    if (picks.length) window.localStorage.setItem(KEY, JSON.stringify(picks));
    else window.localStorage.removeItem(KEY);
  } catch {
    // Storage can be full or disabled: the picks then last until the page is closed.
    cached = { raw: JSON.stringify(picks), picks };
  }
  listeners.forEach((notify) => notify());
}

export function pickOf(offer: Offer): Pick {
  return { id: offer.id, label: `${gpuLabel(offer)} × ${offer.gpu_count}`, provider: offer.provider, price_per_gpu_hour: offer.price_per_gpu_hour };
}

/** Add the offer, or remove it if it is already picked; "full" when four are already picked. */
export function togglePick(picks: readonly Pick[], offer: Offer): { picks: readonly Pick[]; outcome: ToggleOutcome } {
  if (picks.some((p) => p.id === offer.id)) return { picks: picks.filter((p) => p.id !== offer.id), outcome: "removed" };
  if (picks.length >= MAX_COMPARE) return { picks, outcome: "full" };
  return { picks: [...picks, pickOf(offer)], outcome: "added" };
}

function subscribe(notify: () => void): () => void {
  listeners.add(notify);
  const onStorage = (event: StorageEvent) => {
    if (event.key === KEY || event.key === null) notify();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(notify);
    window.removeEventListener("storage", onStorage);
  };
}

export function usePicks(): readonly Pick[] {
  return useSyncExternalStore(subscribe, readPicks, () => []);
}

/** /compare?ids=1,2,3: a shareable link to the comparison of these offers. */
export function compareHref(ids: readonly number[]): string {
  return `/compare?ids=${ids.join(",")}`;
}

/** Offer ids from ?ids=1,2,3 (duplicates and junk left out, at most four). */
export function parseIds(text: string | null): number[] {
  const ids: number[] = [];
  for (const part of (text ?? "").split(",")) {
    const id = Number(part.trim());
    if (part.trim() && Number.isSafeInteger(id) && id > 0 && !ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, MAX_COMPARE);
}
