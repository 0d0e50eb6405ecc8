"""melody_env."""
