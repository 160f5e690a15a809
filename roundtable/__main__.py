"""`python -m roundtable` is the `roundtable` command."""

import sys

from roundtable.cli import main

sys.exit(main())
