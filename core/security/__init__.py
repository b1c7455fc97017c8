"""Security primitives: password hashing, signed tokens, rate limits."""
