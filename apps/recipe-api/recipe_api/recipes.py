"""The recipe catalogue. Add a recipe here; the routes serve whatever this mapping holds."""

from __future__ import annotations

from typing import Any

RECIPES: dict[int, dict[str, Any]] = {
    42: {
        "id": 42,
        "name": "Chicken Tikka Masala",
        "steps": "Throw it in a pot...",
        "ingredients": [
            {"id": 1, "name": "Chicken", "quantity": "1 lb"},
            {"id": 2, "name": "Sauce", "quantity": "2 cups"},
        ],
    },
}
