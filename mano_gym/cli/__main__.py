import sys

from mano_gym.cli import main

sys.exit(main())
