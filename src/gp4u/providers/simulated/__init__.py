"""The simulated market: documented reference prices that move over time, for offline use."""
