"""Prizes at kiosks: the catalogue per store, the wheel, its draws, exchanges and pickups."""
