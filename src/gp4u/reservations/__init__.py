"""Reservations: time blocks booked in advance on a machine, paid from the wallet."""
