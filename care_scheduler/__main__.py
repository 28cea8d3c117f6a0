import sys

from care_scheduler.cli import main

sys.exit(main())
