"""Pages for customers, opened from links in their SMS (no console login)."""
