// Vite build of GP4U's web UI. `npm run build` writes web/dist, which `gp4u serve` serves at /;
// `npm run dev` serves the UI with hot reload and proxies the API to a running `gp4u serve`.
/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const api = process.env.GP4U_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    sourcemap: false,
    // Keep the framework apart from the app so app changes do not bust the framework's cache.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: "vendor", test: /node_modules[\\/](react|react-dom|react-router|scheduler|@tanstack)[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: { "/api": api, "/healthz": api, "/readyz": api },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
