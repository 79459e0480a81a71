"""The command line: a thin layer over the library. Each command parses its options, calls one
library function, and prints; the group makes SIGTERM stop a command as Ctrl-C does.

Commands: ``run`` (:mod:`dedup.cli.run`), ``align``, ``report``, ``explain``
(:mod:`dedup.cli.show`), ``index`` (:mod:`dedup.cli.index`); shared options in
:mod:`dedup.cli.options`.
"""

from __future__ import annotations

from typing import Any

import click

from dedup.cli.index import index_group
from dedup.cli.run import run
from dedup.cli.show import align_command, explain_command, report_command
from dedup.index.store import IndexFileError
from dedup.runtime.extras import MissingExtraError
from dedup.runtime.processes import Terminated, terminate_as_interrupt
from dedup.version import __version__


class _Group(click.Group):
    """The command group: SIGTERM stops a command as Ctrl-C does (:mod:`dedup.runtime.processes`), with
    every clean-up run, one line on stderr and exit status 143; an index found damaged by any
    command, or an extra a command needs and lacks, is one line naming it (or its install
    command)."""

    def invoke(self, ctx: click.Context) -> Any:
        with terminate_as_interrupt():
            try:
                return super().invoke(ctx)
            except Terminated:
                click.echo("dedup: stopped by SIGTERM", err=True)
                raise
            except IndexFileError as err:  # (a damaged index, met by any command: one line)
                raise click.ClickException(str(err)) from None
            except MissingExtraError as err:  # (checked before anything is made: one line)
                raise click.ClickException(str(err)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(version=__version__, prog_name="dedup", package_name="newsdedup")
def main() -> None:
    """Find rewrites and machine-translation variants of news articles."""


for command in (run, align_command, report_command, explain_command, index_group):
    main.add_command(command)
