"""`python -m revise`: the same command line as server.py and the installed `revise` command."""

import sys

from revise.cli import main

if __name__ == "__main__":
    sys.exit(main())
