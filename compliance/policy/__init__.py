"""The policy language (parse, validate), facts, decisions, the matrix and policy tests."""
