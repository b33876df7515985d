"""The kiosk door: what an in-store tablet calls at ``/kiosk/graphql`` with its device token."""
