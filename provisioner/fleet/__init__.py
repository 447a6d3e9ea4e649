"""Many tenants at once: a fleet's runs side by side (:mod:`.tenants`), shards for CI fan-out, the fleet's checks
before any request, its inventory, and the JSON and JUnit reports."""
