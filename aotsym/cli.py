"""The ``aotsym`` command line: ``aotsym build``, ``aotsym config``, ``aotsym --version``.

Beside the pipeline: it parses arguments and hands them to the stage that does the work.  The
``build`` subcommand belongs to the build stage: :mod:`aotsym.build.cli` provides
``add_arguments(subparser)`` and ``run(args) -> int``, and this module only registers them.
"""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
aotsym: an ahead-of-time compiler for symbolic tensor programs.

  aotsym build model.py -o dist/     compile a model file's aotsym.Module into an
                                     importable extension module
  aotsym config                      show the effective flags and where each comes from
  aotsym profile-report p.json --html r.html --trace t.json
                                     draw a saved profile (a profile build's profile())
"""


def _run_config(args) -> int:
    from aotsym.config import FLAGS, THEANO_ONLY, config
    # aotsym's flags; Theano's (accepted, no effect) only with -v or where they were set
    names = [n for n in FLAGS if n not in THEANO_ONLY or args.verbose
             or config.source(n) != "default"]
    width = max(map(len, names))
    for name in names:
        value = getattr(config, name)
        print(f"{name:<{width}} = {value!r:<24} # {config.source(name)}")
    if args.verbose:
        print()
        print(config.precedence_text())
    return 0


def make_parser() -> argparse.ArgumentParser:
    from aotsym import __version__
    parser = argparse.ArgumentParser(
        prog="aotsym", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"aotsym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from aotsym.build import cli as build_cli
    build = sub.add_parser("build", help="compile a model file into an extension module")
    build_cli.add_arguments(build)
    build.set_defaults(handler=build_cli.run)

    from aotsym.build import profile_report
    report = sub.add_parser("profile-report", help="an HTML page or a Chrome trace of a "
                            "saved profile")
    profile_report.add_arguments(report)
    report.set_defaults(handler=profile_report.run)

    config = sub.add_parser("config", help="print the effective flags and their sources")
    config.add_argument("-v", "--verbose", action="store_true",
                        help="also explain where flags are read from")
    config.set_defaults(handler=_run_config)
    return parser


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
