"""factory: the controller of a passport and permit production center.

Packages and what each may import:

- ``factory.errors``, ``factory.records``, ``factory.config``: plain data, used by all.
- ``factory.mrz``: ICAO 9303 machine-readable zones; pure, imports only errors.
- ``factory.scheduler``: calendar, deadlines, priority, capacity plan; pure numpy.
- ``factory.devices``: data-page rendering, the printer driver interface, the simulator.
- ``factory.qa``: vectorized checks of applications and printed pages; pure numpy/OpenCV.
- ``factory.samples``: realistic generated applications (names, photos, signatures).
- ``factory.cli``: the one place that wires configuration, files and processes together.

The pure packages (mrz, scheduler, qa) import no zmq, sqlite3 or fastapi and
read no clock.
"""

__version__ = "0.1.0"
