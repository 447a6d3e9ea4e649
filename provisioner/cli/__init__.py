"""The command line: ``provisioner`` and its commands (typer), their output and exit codes. Nothing below imports
it."""
