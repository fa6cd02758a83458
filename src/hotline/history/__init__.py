"""History import (issue 16): a county's earlier tickets brought in from a file.

files.py       reading JSON Lines, CSV and Excel into numbered rows
rows.py        checking every row (pure): the ticket it makes, or its problems
repository.py  the batched INSERTs and the external ids already seen
service.py     the whole run: validate all, then write in batches
"""
