// The app shell around every page: a skip link, the header (brand, navigation, login state,
// theme toggle), the page itself and the toasts.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import { clearLogin, readLogin } from "../api/login";
import { ME_KEY, useMe } from "../auth/useMe";
import { AlertListener } from "../alerts/AlertListener";
import { UnreadBadge } from "../alerts/UnreadBadge";
import { ThemeToggle } from "./theme";
import { useToast } from "./toasts";

/** Pages in the main navigation; `admin` ones show only to admins; `also`: paths of the same area. Each area's pages are in its routes.tsx. */
const NAV: readonly { to: string; label: string; end?: boolean; admin?: boolean; also?: string[] }[] = [
  { to: "/", label: "Marketplace", end: true, also: ["/compare"] },
  { to: "/clusters", label: "Clusters" },
  { to: "/sessions", label: "My GPUs", also: ["/reservations"] },
  { to: "/wallet", label: "Wallet", also: ["/costs"] },
  { to: "/alerts", label: "Alerts" },
  { to: "/host", label: "Host" },
  { to: "/providers", label: "Providers" },
  { to: "/admin", label: "Admin", admin: true },
];

export function Shell() {
  const me = useMe();
  const isAdmin = me.data?.roles.includes("admin") ?? false;
  const { pathname } = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="GP4U home">
          <span aria-hidden="true" className="brand-mark">
            ▦
          </span>
          GP4U
        </Link>
        <nav aria-label="Main" className="mainnav">
          <ul>
            {NAV.filter((item) => !item.admin || isAdmin).map((item) => (
              <li key={item.to}>
                <NavLink
                  to={item.to}
                  end={item.end ?? false}
                  className={({ isActive }) =>
                    isActive || item.also?.some((path) => pathname.startsWith(path)) ? "is-current" : undefined
                  }
                >
                  {item.label}
                  {item.to === "/alerts" ? <UnreadBadge /> : null}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          <LoginState />
          <ThemeToggle />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <AlertListener />
    </div>
  );
}

function LoginState() {
  const me = useMe();
  const client = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const logout = useMutation({
    mutationFn: async () => {
      const login = readLogin();
      if (login) {
        // Ending the login on the server is best effort: the tokens are forgotten here anyway.
        await api.POST("/api/v1/auth/logout", { body: { refresh_token: login.refreshToken, everywhere: false } });
      }
    },
    onSettled: (_data, error) => {
      clearLogin();
      client.removeQueries({ queryKey: ME_KEY });
      if (error) toast({ kind: "info", title: "Logged out here", detail: describeError(error) });
      else toast({ kind: "success", title: "Logged out" });
      navigate("/");
    },
  });

  if (me.isPending) return null;
  if (me.data === null || me.isError) {
    return (
      <span className="login-state">
        <Link className="button button-quiet" to="/login">
          Log in
        </Link>
        <Link className="button" to="/signup">
          Sign up
        </Link>
      </span>
    );
  }
  if (me.data.auth_mode === "local") {
    return (
      <Link className="login-state" to="/account" title="This server runs in local mode: one user, no login.">
        Local mode
      </Link>
    );
  }
  return (
    <span className="login-state">
      <Link className="login-name" to="/account" title="Your account">
        {me.data.display_name || me.data.email}
      </Link>
      <button type="button" className="button button-quiet" onClick={() => logout.mutate()} disabled={logout.isPending}>
        Log out
      </button>
    </span>
  );
}
