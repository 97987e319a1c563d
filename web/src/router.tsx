// Every page of the UI. The marketplace is in the first bundle (it is the home page); every other
// page loads on demand. Each area lists its own pages in its routes.tsx: public ones anyone may
// open, protected ones behind <RequireAuth>, which sends a visitor to /login?next=….
import { createBrowserRouter, type RouteObject } from "react-router";

import * as account from "./account/routes";
import * as admin from "./admin/routes";
import * as alerts from "./alerts/routes";
import { Shell } from "./app/Shell";
import * as auth from "./auth/routes";
import { RequireAuth } from "./auth/RequireAuth";
import * as booking from "./booking/routes";
import * as clusters from "./clusters/routes";
import * as host from "./host/routes";
import { MarketplacePage } from "./market/MarketplacePage";
import * as market from "./market/routes";
import { NotFoundPage, RouteErrorPage } from "./pages/NotFoundPage";
import * as providers from "./providers/routes";
import * as wallet from "./wallet/routes";

const AREAS = [market, auth, account, booking, clusters, wallet, alerts, host, providers, admin];

export const routes: RouteObject[] = [
  {
    path: "/",
    element: <Shell />,
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <MarketplacePage /> },
      ...AREAS.flatMap((area) => ("publicRoutes" in area ? area.publicRoutes : [])),
      { element: <RequireAuth />, children: AREAS.flatMap((area) => ("protectedRoutes" in area ? area.protectedRoutes : [])) },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
