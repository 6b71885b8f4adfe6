"""The Great Expectations suites of techreform, one JSON file per form (package data)."""
