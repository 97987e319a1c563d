// This area's pages for the router (router.tsx): public ones anyone may open, protected ones
// behind a login. Pages load on demand, in their own chunks.
import type { RouteObject } from "react-router";

export const publicRoutes: RouteObject[] = [

];

export const protectedRoutes: RouteObject[] = [
  { path: "admin", lazy: async () => ({ Component: (await import("./AdminPage")).AdminPage }) },
];
