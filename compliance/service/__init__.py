"""The decision service: the guard over HTTP (python -m compliance serve)."""
