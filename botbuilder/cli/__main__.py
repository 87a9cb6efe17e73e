from botbuilder.cli import main

main()
