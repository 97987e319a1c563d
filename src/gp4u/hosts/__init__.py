"""Host machines: GPU owners list their machines, set prices and hours, and earn from rentals."""
