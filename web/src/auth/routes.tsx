// Logging in and signing up: public pages for the router (router.tsx), loaded on demand.
import type { RouteObject } from "react-router";

export const publicRoutes: RouteObject[] = [
  { path: "login", lazy: async () => ({ Component: (await import("./LoginPage")).LoginPage }) },
  { path: "signup", lazy: async () => ({ Component: (await import("./SignupPage")).SignupPage }) },
];
