"""Straight checks of the indicators: `STRAIGHT = {indicator_key: fn}` in `<slice>.py` (see README.md)."""
