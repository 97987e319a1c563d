"""Pricing intelligence: arbitrage between providers, value metrics and the G-Score,
recommendations (TOPSIS), price history, forecasts and anomalies."""
