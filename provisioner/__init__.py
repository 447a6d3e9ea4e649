"""provisioner: onboard SAP Cloud ALM tenants to the SAP Cloud ALM API on SAP BTP from YAML playbooks.

The package's import is kept light: the CLI imports what a command needs when it runs.
"""

__version__ = "0.1.0"
