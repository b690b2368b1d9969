"""Developer commands for the central database's migrations.

``python -m central.db revision "add foo" [--rev-id 0002]`` autogenerates a new
revision script (review it by hand); ``python -m central.db head`` prints the
newest revision.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from central.db.migrate import head_revision, make_revision


def main(argv: Sequence[str] | None = None) -> None:
    """Parse `argv` and run the command."""
    parser = argparse.ArgumentParser(prog="python -m central.db")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a new revision script")
    revision.add_argument("message")
    revision.add_argument("--rev-id")
    commands.add_parser("head", help="print the newest revision")
    args = parser.parse_args(argv)
    if args.command == "revision":
        print(make_revision(args.message, rev_id=args.rev_id))
    else:
        print(head_revision())


if __name__ == "__main__":
    main()
