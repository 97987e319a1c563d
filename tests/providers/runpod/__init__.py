"""RunPod adapter, parser and fake server."""
