// The UI's entry point: server-state cache, theme, toasts and the router.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router/dom";

import { ApiError } from "./api/errors";
import { ThemeProvider } from "./app/theme";
import { ToastProvider } from "./app/toasts";
import { readSearchState } from "./market/searchState";
import { offersQuery } from "./market/useOffers";
import { createRouter } from "./router";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused request (4xx) will be refused again: only retry failures of the network or server.
      retry: (failures, error) => !(error instanceof ApiError && error.isClientError) && failures < 2,
      refetchOnWindowFocus: false,
    },
  },
});

// Opening the marketplace: ask for the first offers now, while React starts.
if (window.location.pathname === "/") {
  const { q, sort } = readSearchState(new URLSearchParams(window.location.search));
  void queryClient.prefetchInfiniteQuery(offersQuery(q, sort));
}

const router = createRouter();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ThemeProvider>
        <ToastProvider>
          <RouterProvider router={router} />
        </ToastProvider>
      </ThemeProvider>
    </QueryClientProvider>
  </StrictMode>,
);
