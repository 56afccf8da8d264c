"""The vectorized QA stage: checks before printing and after printing.

Owns: one module per family of checks (MRZ read-back, visual zone, photo,
signature, print quality) and the verdicts that combine them. Batches of
pages in, one verdict per check per document out.

Pure: imports ``factory.errors``, ``factory.records``, ``factory.mrz``,
``factory.devices.layout``/``render``, numpy and OpenCV. No sockets, no
SQLite, no clock.
"""
