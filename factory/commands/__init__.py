"""The command-line subcommands, one module each.

Every module here defines ``register(subparsers)``, which adds its
subcommand(s) with ``set_defaults(run=...)``; ``run(args) -> int`` returns the
exit status. ``factory.cli`` discovers the modules, so a new command is a new
file. This is shell: files, processes and printing live here, and the pure
packages are called with plain data.
"""
