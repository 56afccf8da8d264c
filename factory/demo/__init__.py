"""The demonstration: the whole line on one machine, running a generated peak day.

Owns: the demo's line (eight machines), the process manager that starts and
stops the real parts (``factory serve``, ``device-sim``, ``worker``,
``qa-worker``, Prometheus), the streaming intake of a generated day, the
progress line and the closing summary. Shell: it spawns processes, writes files
and reads the ledger; the summary's arithmetic is a pure function
(``factory.demo.summary``).

May import everything in factory; nothing imports it but ``factory.commands.demo``.
"""
