"""The market: normalised offers from every source, their price history, search and import."""
