"""Models on routes: lifecycle (deprecation, retirement, successor), evals, latency, and the advisor."""
