"""``python -m course`` runs the command line (see :mod:`course.cli`)."""

import sys

from course.cli import main

if __name__ == "__main__":
    sys.exit(main())
