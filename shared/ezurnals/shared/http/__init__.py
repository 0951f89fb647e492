"""The HTTP side shared by every service API: app factory, errors, command context."""
