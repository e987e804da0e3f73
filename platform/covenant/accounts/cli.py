"""``covenant users``: create the first admin and manage accounts. (Placeholder until accounts land.)"""

from __future__ import annotations

import click


@click.group(help="User accounts.")
def users() -> None:
    pass
