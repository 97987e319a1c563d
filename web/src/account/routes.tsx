// The account's pages for the router (router.tsx): behind a login, loaded on demand.
import type { RouteObject } from "react-router";

export const protectedRoutes: RouteObject[] = [
  { path: "account", lazy: async () => ({ Component: (await import("./AccountPage")).AccountPage }) },
];
