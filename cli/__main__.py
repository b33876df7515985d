"""``python -m cli``: the same as the ``happy`` script."""

import sys

from cli import main

sys.exit(main())
