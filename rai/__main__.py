from rai.cli import main

main()
