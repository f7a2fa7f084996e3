"""Day-2 operations on the recipes stack: preflight (doctor), history, rollback. Standard library only, so the
doctor's tool checks run with the system Python before the venv exists."""
