"""Plumbing shared by the simulated APIs: request context and JSON responses (`http`), the CF v3 / BTP / OAuth
error envelopes (`errors`), CF list queries and pagination (`listing`), the request journal, the clock, fault
injection, asynchronous jobs, tokens, users and OAuth clients (`identity`), and JSON Schema validation of the
landscape and faults files (`schema`). Nothing here imports an API package (`cf`, `uaa`, `btp`)."""
