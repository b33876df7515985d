"""USSD sessions: what a USSD dialogue must remember between a gateway's requests."""
