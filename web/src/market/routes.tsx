// The marketplace's pages for the router (router.tsx). The marketplace itself is the index route
// and sits in the first bundle (router.tsx); the rest load on demand.
import type { RouteObject } from "react-router";

export const publicRoutes: RouteObject[] = [
  { path: "compare", lazy: async () => ({ Component: (await import("./ComparePage")).ComparePage }) },
];
