"""Validation seam (placeholder until the Great Expectations validation lands): only required fields."""
