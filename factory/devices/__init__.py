"""The printers: data-page rendering, the driver interface, the simulated printer.

Owns: the page layout (zones with coordinates that QA also reads), rendering
of a TD3 data page and a TD1 card (pure), the asynchronous driver protocol,
and the simulated personalization machine that runs as its own process.

May import ``factory.errors``, ``factory.records``, ``factory.config``,
``factory.mrz``, numpy, OpenCV and Pillow; the simulator's shell also uses sockets.
"""
