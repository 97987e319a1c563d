// The browser's login: the token pair from /api/v1/auth/login kept in localStorage, so every tab
// shares one login (the server rotates refresh tokens and revokes a login whose spent token is
// used again, so tabs must not refresh independently: see freshAccessToken). No React here.
import type { TokenOut } from "./types";

const STORAGE_KEY = "gp4u.login";
/** Refresh this long before the access token expires. */
const EARLY_MS = 30_000;

export interface Login {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
}

const listeners = new Set<() => void>();

function isLogin(value: unknown): value is Login {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.accessToken === "string" &&
    typeof v.refreshToken === "string" &&
    typeof v.accessExpiresAt === "number" &&
    typeof v.refreshExpiresAt === "number"
  );
}

export function readLogin(): Login | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (!isLogin(parsed) || parsed.refreshExpiresAt <= Date.now()) return null;
    return parsed;
  } catch {
    return null;
  }
}

function notify(): void {
  for (const listener of listeners) listener();
}

export function storeLogin(tokens: TokenOut, now: number = Date.now()): Login {
  const login: Login = {
    accessToken: tokens.access_token,
    accessExpiresAt: now + tokens.expires_in * 1000,
    refreshToken: tokens.refresh_token,
    refreshExpiresAt: now + tokens.refresh_expires_in * 1000,
  };
  localStorage.setItem(STORAGE_KEY, JSON.stringify(login));
  notify();
  return login;
}

export function clearLogin(): void {
  if (localStorage.getItem(STORAGE_KEY) === null) return;
  localStorage.removeItem(STORAGE_KEY);
  notify();
}

/** Call `listener` when this or another tab logs in or out. */
export function onLoginChange(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === STORAGE_KEY || event.key === null) listener();
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

/** What a refresh call answered: new tokens, a refused token, or no answer. */
export type RefreshOutcome = TokenOut | "refused" | "unreachable";

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  // One tab refreshes at a time; the others then find the rotated pair in storage.
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("gp4u.login.refresh", work);
  }
  return work();
}

let inFlight: Promise<string | null> | null = null;

/** A usable access token (refreshed first when it is about to expire), or null when logged out. */
export function freshAccessToken(
  refresh: (refreshToken: string) => Promise<RefreshOutcome>,
): Promise<string | null> {
  const login = readLogin();
  if (!login) return Promise.resolve(null);
  if (login.accessExpiresAt - EARLY_MS > Date.now()) return Promise.resolve(login.accessToken);
  inFlight ??= withRefreshLock(async () => {
    const current = readLogin(); // another tab may have refreshed while we waited
    if (!current) return null;
    if (current.accessExpiresAt - EARLY_MS > Date.now()) return current.accessToken;
    const outcome = await refresh(current.refreshToken);
    if (outcome === "refused") {
      clearLogin();
      return null;
    }
    if (outcome === "unreachable") return current.accessToken;
    return storeLogin(outcome).accessToken;
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}
