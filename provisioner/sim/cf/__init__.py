"""The Cloud Foundry v3 API (Cloud Controller) of the simulator: orgs, spaces, roles, service offerings and plans,
service instances, service credential bindings (keys) and jobs (`/`, `/v3/...`)."""
