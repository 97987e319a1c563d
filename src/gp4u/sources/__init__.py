"""Market sources: syncing every provider adapter into the market, keeping track of how fresh
each one is (stale offers, then expired ones), and the health of every provider."""
