"""The steps of onboarding, in the order of SAP's setup guide for the SAP Cloud ALM API ("Create a Space",
"Configure Entitlements", "Maintain an Instance", "Create a Service Key", then download, check and test).

Each change step has the same shape (:class:`~provisioner.steps.base.Step`): ``read`` the current state into a
frozen observation, ``compare`` it (a pure function) with the playbook and the results of earlier steps into a
:class:`~provisioner.steps.base.Change`, and ``apply`` only what differs, returning the step's typed output.
``plan`` runs ``read`` and ``compare`` only. Check and test are verifications
(:class:`~provisioner.steps.base.VerifyStep`): they change nothing and either pass or fail."""
