"""revise — the command line, as run from a checkout: `.venv/bin/python server.py [COMMAND] ...`.

The logic lives in revise/cli.py so that an installed revise (the `revise` command, or
`python -m revise`) has it too; `python server.py --help` lists the commands.
"""

import sys

from revise.cli import main

if __name__ == "__main__":
    sys.exit(main())
