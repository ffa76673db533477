"""Entry point of `cdktf synth` and of `python main.py [synth|workers|diagram|doctor]` (command_line/cli.py).

Exit status: 0 ok, 2 bad input (every problem listed on stderr), 1 unexpected failure.
"""

import sys

from command_line.cli import (EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, INSTALLED_WITH_THE_APP, Progress,  # noqa: F401
                              main, parse_args)

if __name__ == "__main__":
    sys.exit(main())
