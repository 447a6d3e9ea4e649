"""The client boundary: HTTP transport (bounded, same-origin, secrets scrubbed), the typed answers of each API
(:mod:`.answers`), and the API clients: Cloud Foundry v3, BTP accounts and entitlements, SAP Service Manager,
UAA/XSUAA tokens."""
