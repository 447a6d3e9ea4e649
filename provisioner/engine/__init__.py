"""One tenant's run: the runner (which steps, in which order, side by side), retries of a step, sign-in, the
org check, the hand-off of keys, Ctrl-C, and the read-only inventory of a tenant."""
