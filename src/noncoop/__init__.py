"""Civilian non-cooperation in Russian-occupied Ukraine (2022): build and load the data package."""
from .load import describe, load

__all__ = ["describe", "load"]
