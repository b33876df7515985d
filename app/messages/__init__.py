"""Member messages: lifecycle messages from domain events, campaigns, and their delivery
over SMS, email, push and Viber (docs/messages.md).

- :mod:`app.messages.templates`: the texts per kind and language;
- :mod:`app.messages.rules`: consent per channel, time zones, quiet hours;
- :mod:`app.messages.service`: composing (once per member, kind, event and channel),
  push devices, the way out, erasure, the operator's list and retry;
- :mod:`app.messages.channels`: the channel backends behind one interface;
- :mod:`app.messages.dispatch`: at-least-once delivery with back-off and dead letters;
- :mod:`app.messages.lifecycle`: the after-commit subscribers (welcome, points earned,
  vouchers ready);
- :mod:`app.messages.campaigns` and :mod:`app.messages.jobs`: campaigns, their triggers
  and the scheduled jobs ``happy worker`` runs.
"""
