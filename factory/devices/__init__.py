"""The printers: data-page rendering, the driver interface, the simulated printer.

Owns: the page layout (zones with coordinates that QA also reads), rendering
of a TD3 data page and a TD1 card (pure), the asynchronous driver protocol,
and the simulated personalization machine that runs as its own process.

May import ``factory.errors``, ``factory.records``, ``factory.config``,
``factory.mrz``, numpy, OpenCV and Pillow; the simulator's shell also uses sockets.

Modules:

- ``layout``: the page layouts (zones in mm and pixels, the MRZ geometry); pure.
- ``render``: the render kit (fonts, pre-rendered backgrounds, OCR-B glyphs) and
  ``render_page``; pure once the kit is built.
- ``defects``: print defects with their ground truth; pure.
- ``driver``: the ``PrinterDriver`` protocol and its messages; pure.
- ``machine``: the simulated machine's decisions (states, stock, faults); pure, takes ``now``.
- ``store`` (SQLite), ``simulator`` (the device process, ZeroMQ), ``client``
  (``SimulatorClient``, ZeroMQ): the shell, imported by name only, so that
  importing this package pulls in no sockets or SQLite (QA reads the layout).
"""

from factory.devices.layout import (
    DEFAULT_DPI,
    MRZ_CAP_HEIGHT_MM,
    MRZ_PITCH_MM,
    TEXT_ZONES,
    ZONE_KINDS,
    Box,
    MrzGeometry,
    PageLayout,
    Zone,
    field_texts,
    format_visual_date,
    mm_to_px,
    page_layout,
)
from factory.devices.defects import (
    CONTENT_DEFECTS,
    DEFECT_KINDS,
    RASTER_DEFECTS,
    Defect,
    Neighbour,
    apply_content_defects,
    apply_raster_defects,
    print_page,
)
from factory.devices.driver import (
    DEVICE_PROTOCOL_VERSION,
    EVENT_KINDS,
    FAULTS,
    JOB_STATES,
    REFUSALS,
    Acceptance,
    BlankLoad,
    DeviceEvent,
    DeviceStatus,
    JobRecord,
    MachineState,
    PrinterDriver,
    PrintJob,
)
from factory.devices.machine import FaultModel, MachineSpec, PrinterMachine, PrintTask, Refusal
from factory.devices.render import (
    MRZ_GLYPHS,
    FontFiles,
    PageContent,
    RenderKit,
    build_render_kit,
    page_content,
    render_content,
    render_mrz_glyphs,
    render_page,
)

__all__ = [
    # layout
    "DEFAULT_DPI",
    "MRZ_PITCH_MM",
    "MRZ_CAP_HEIGHT_MM",
    "ZONE_KINDS",
    "TEXT_ZONES",
    "Box",
    "Zone",
    "MrzGeometry",
    "PageLayout",
    "page_layout",
    "field_texts",
    "format_visual_date",
    "mm_to_px",
    # render
    "MRZ_GLYPHS",
    "FontFiles",
    "RenderKit",
    "PageContent",
    "build_render_kit",
    "render_mrz_glyphs",
    "page_content",
    "render_content",
    "render_page",
    # defects
    "DEFECT_KINDS",
    "CONTENT_DEFECTS",
    "RASTER_DEFECTS",
    "Defect",
    "Neighbour",
    "apply_content_defects",
    "apply_raster_defects",
    "print_page",
    # driver
    "DEVICE_PROTOCOL_VERSION",
    "MachineState",
    "FAULTS",
    "REFUSALS",
    "JOB_STATES",
    "EVENT_KINDS",
    "PrintJob",
    "Acceptance",
    "JobRecord",
    "DeviceEvent",
    "DeviceStatus",
    "BlankLoad",
    "PrinterDriver",
    # machine
    "FaultModel",
    "MachineSpec",
    "PrintTask",
    "PrinterMachine",
    "Refusal",
]
