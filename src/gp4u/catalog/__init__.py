"""The GPU reference catalog (vendor specs per model) and the normaliser of provider GPU names."""
