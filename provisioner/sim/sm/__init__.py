"""SAP Service Manager (`/sm/v1/...`, the `sm_url` of a Service Manager binding): offerings, plans, subaccount-level
service instances and bindings with asynchronous operations, and the Service Manager access bindings that the
Accounts service hands out (`serviceManagerBindings`)."""
