"""Support tools: member blocks and the operator's append-only audit log.

A leaf capability (it imports no other capability), so receipts, rewards and prizes can
ask it whether a member is blocked without an import cycle.
"""
