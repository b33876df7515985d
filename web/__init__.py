"""The plain HTTP doors: routes that are not GraphQL, each module one door.

- ``wallet``: the card's signed file links and Apple's pass web service;
- ``microsite``: the member microsite's static pages;
- ``health``: ``/healthz`` and ``/readyz`` for load balancers.

Like the GraphQL doors they translate a request into calls of the core (``app``) and its
answer back; the core never imports them. ``app.main`` mounts them.
"""
