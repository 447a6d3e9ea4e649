"""Key life after a run: rotate (a new key, the old one kept), revoke, and migrate an instance off instance
secrets; each locates a tenant's keys the way a run does and holds the key file's lease."""
