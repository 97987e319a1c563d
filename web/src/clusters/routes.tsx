// This area's pages for the router (router.tsx): public ones anyone may open, protected ones
// behind a login. Pages load on demand, in their own chunks.
import type { RouteObject } from "react-router";

export const publicRoutes: RouteObject[] = [
  { path: "clusters/new", lazy: async () => ({ Component: (await import("./ClusterWizardPage")).ClusterWizardPage }) },
];

export const protectedRoutes: RouteObject[] = [
  { path: "clusters", lazy: async () => ({ Component: (await import("./ClustersPage")).ClustersPage }) },
  { path: "clusters/:clusterId", lazy: async () => ({ Component: (await import("./ClusterPage")).ClusterPage }) },
];
