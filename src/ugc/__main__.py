from ugc.cli import main

main()
