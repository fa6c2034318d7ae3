"""The built-in strategies, one module each (docs/strategies.md describes their rules)."""
