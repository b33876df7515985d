"""Kiosk tablets in stores: the kiosks, their store rules, member visits and check-ins."""
