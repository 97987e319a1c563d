"""GP4U, the Kayak of GPUs: one searchable market of every provider's GPU offers."""

__version__ = "0.1.0"
