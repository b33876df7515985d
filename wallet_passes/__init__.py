"""Digital card artefacts: QR images, Apple Wallet passes, Google Wallet links, file storage.

This package is a library: nothing here reads settings or the environment. The application
wires it from ``app.settings`` (see ``docs/wallet.md``).
"""
