"""What changed, and who must hear of it: the one pipeline every write goes through.

pipeline   services record what changed (``touch`` a row, ``event`` for subscribers); the
           unit of work finishes it just before commit: outbox rows, change numbers in
           commit order, departures from a poller's scope, wake-ups
notify     long-poll waiters of this process, woken after commit by changes of this
           process or (LISTEN/NOTIFY, or the SQLite counter watch) of any other
models     the change counter, the configuration generation, departures
"""
