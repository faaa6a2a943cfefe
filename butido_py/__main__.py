from butido_py.cli.main import main

main()
