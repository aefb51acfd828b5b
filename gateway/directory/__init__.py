"""The gateway's directory (draft docstring)."""
