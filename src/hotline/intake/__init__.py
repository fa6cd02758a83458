"""New tickets: routed at once, clocks started, written in a few statements, idempotent.

make       the ticket in memory: routing, clocks, first events
service    the unit of work around it: caches checked by the configuration generation,
           idempotency, replays
endpoints  POST /v1/tickets (Open311's POST uses the same service)
"""
