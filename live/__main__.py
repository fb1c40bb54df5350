import sys

from ganterp.live.cli.main import main

sys.exit(main())
