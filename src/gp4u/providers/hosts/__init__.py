"""The adapter that runs sessions on host machines (GP4U's own marketplace)."""
