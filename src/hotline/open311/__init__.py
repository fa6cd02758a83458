"""Open311 GeoReport v2 at /open311/v2, so existing 311 clients work (DESIGN.md §9).

``endpoints`` (HTTP) → ``catalogue`` (discovery, services, the service definition), ``submit``
(POST requests → the ticket intake), ``params`` and ``service`` (GET requests); ``render``
writes JSON or XML and the spec's error list; ``schemas`` are the spec's documents.
"""
