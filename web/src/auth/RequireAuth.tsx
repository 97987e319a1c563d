// Protected routes: children render for a known user (or in local mode); anyone else is sent to
// /login, which brings them back here afterwards (?next=).
import { Navigate, Outlet, useLocation } from "react-router";

import { describeError } from "../api/errors";
import { useMe } from "./useMe";

export function RequireAuth() {
  const location = useLocation();
  const me = useMe();
  if (me.isPending) {
    return (
      <p className="page-status" role="status">
        Checking your login…
      </p>
    );
  }
  if (me.isError) {
    return (
      <p className="page-status" role="alert">
        Could not check your login: {describeError(me.error)}
      </p>
    );
  }
  if (me.data === null) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** Where to go after logging in: a path on this site only (never another origin). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}
