"""Helpers shared by every test layer: plain HTTP, polling, and load loops. No third-party dependencies."""
