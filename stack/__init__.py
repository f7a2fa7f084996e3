"""The recipes Pulumi program's building blocks, one module per concern; `__main__.py` wires them together."""
