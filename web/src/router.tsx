// Every page of the UI. The marketplace is in the first bundle (it is the home page); other
// pages load on demand. Pages that need a login sit under <RequireAuth>; add later pages
// (sessions, reservations, wallet, host, providers, …) to the matching group.
import { createBrowserRouter, type RouteObject } from "react-router";

import { Shell } from "./app/Shell";
import { RequireAuth } from "./auth/RequireAuth";
import { MarketplacePage } from "./market/MarketplacePage";
import { NotFoundPage, RouteErrorPage } from "./pages/NotFoundPage";

export const routes: RouteObject[] = [
  {
    path: "/",
    element: <Shell />,
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <MarketplacePage /> },
      { path: "login", lazy: async () => ({ Component: (await import("./auth/LoginPage")).LoginPage }) },
      {
        // Protected pages: anyone not logged in is sent to /login?next=…
        element: <RequireAuth />,
        children: [{ path: "account", lazy: async () => ({ Component: (await import("./account/AccountPage")).AccountPage }) }],
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
