"""Tests of the landscape simulator (provisioner.sim)."""
