from kiln_client.cli import main

main()
