"""Rasa's command line with this product's Rasa fixes installed first: ``python -m bot run …``, ``… shell``,
``… test core …``; every argument is Rasa's."""

import sys

from bot import rasa_compat

try:
    rasa_compat.install(server=sys.argv[1:2] == ["run"])
except (rasa_compat.IncompatibleRasa, ValueError) as exc:
    sys.exit(f"error: {exc}")

from rasa.__main__ import main  # noqa: E402

main()
