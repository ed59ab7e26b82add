import sys

from clients.agent.cli import main

sys.exit(main())
