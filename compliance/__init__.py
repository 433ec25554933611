"""LLM compliance and DPA tracking: which feature may send which data through which route."""
