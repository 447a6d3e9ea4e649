"""Waiting for asynchronous work (CF jobs, Service Manager operations, entitlements): polls with backoff, and the
job durations learned in a process and cached on disk."""
