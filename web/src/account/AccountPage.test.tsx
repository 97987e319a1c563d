// The account page for each kind of login: in local mode there is no password section (nobody
// logs in) and a notice says why; with an account every section shows, and an API key form
// offers only the scopes the user's roles grant.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Me } from "../api/types";
import { ToastProvider } from "../app/toasts";

const me = vi.hoisted(() => ({ current: null as unknown }));

vi.mock("../auth/useMe", () => ({ ME_KEY: ["me"], useMe: () => ({ data: me.current }) }));
vi.mock("../api/client", () => ({
  api: {
    GET: vi.fn(async () => ({ data: { items: [] }, response: new Response(null, { status: 200 }) })),
  },
}));

import { AccountPage } from "./AccountPage";

afterEach(cleanup);

function user(auth_mode: Me["auth_mode"], roles: Me["roles"]): Me {
  return {
    id: "u1",
    email: "ada@example.com",
    display_name: "Ada",
    roles,
    is_active: true,
    created_at: "2026-11-01T10:00:00Z",
    max_session_hours: null,
    auth_mode,
  };
}

function show(profile: Me) {
  me.current = profile;
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <ToastProvider>
        <AccountPage />
      </ToastProvider>
    </QueryClientProvider>,
  );
}

describe("the account page", () => {
  it("in local mode leaves out the password and says why", async () => {
    show(user("local", ["renter", "host", "admin"]));
    expect(screen.getByText(/runs in local mode/)).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Password" })).toBeNull();
    expect(screen.getByRole("heading", { name: "API keys" })).toBeTruthy();
    expect(await screen.findByText("You have no API keys.")).toBeTruthy();
    expect(screen.getByLabelText(/^Admin:/)).toBeTruthy();
  });

  it("with an account shows every section and only the scopes the roles grant", async () => {
    show(user("accounts", ["renter"]));
    expect(screen.getByText("ada@example.com")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Password" })).toBeTruthy();
    expect(await screen.findByRole("listitem", { name: "Vast.ai" })).toBeTruthy();
    expect(screen.getByLabelText(/^Trade:/)).toBeTruthy();
    expect(screen.queryByLabelText(/^Host:/)).toBeNull();
  });
});
