from lmfchart.cli import main

main()
