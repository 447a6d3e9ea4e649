from provisioner.cli.app import main

main()
