"""The steps of onboarding, in the order of the seeds. Each has the same shape: ``read`` the current state,
``compare`` it with the playbook (a :class:`~provisioner.steps.base.Change` with its reasons), and ``apply`` only
what differs. ``plan`` runs ``read`` and ``compare`` only."""
