"""Monthly settlement between the programme and its partners (docs/operations.md)."""
