"""Run the command line: ``python -m rotation``."""

from __future__ import annotations

import sys

from rotation.cli import main

if __name__ == "__main__":
    sys.exit(main())
