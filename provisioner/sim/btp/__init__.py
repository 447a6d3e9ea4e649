"""The BTP account APIs of the simulator: Accounts, Entitlements (with jobs-management) and Provisioning
(`/btp/...`), with the global account, its `cis` key, subaccounts and entitlement assignments."""
