"""A reproducible load benchmark of the gateway against a hand-written baseline proxy (see README.md)."""
