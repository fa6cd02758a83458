"""Background jobs: on top of the house, they drive every domain.

runner     every(): a job run every N seconds until cancelled, one process at a time
           where it must (a PostgreSQL advisory lock), an outage logged once
sweep      one sweeper pass: reminders, breaches, escalations (DESIGN.md §6)
serve      the jobs ``hotline serve`` runs: the sweep (then the metrics roll-up and,
           now and then, hot-spot detection) and the webhook deliverer
"""
