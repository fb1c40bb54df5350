"""Settings files: default.toml and presets/ (data only)."""
