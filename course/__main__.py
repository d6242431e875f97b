"""``python -m course`` runs the command line (see :mod:`course.cli`)."""

import sys

from course.cli import main

sys.exit(main())
