"""Stand-ins that only tests load into ComfyUI."""
