"""The printers: data-page rendering, the driver interface, the simulated printer.

Owns: the page layout (zones with coordinates that QA also reads), rendering
of a TD3 data page and a TD1 card (pure), the asynchronous driver protocol,
and the simulated personalization machine that runs as its own process.

May import ``factory.errors``, ``factory.records``, ``factory.config``,
``factory.mrz``, numpy, OpenCV and Pillow; the simulator's shell also uses sockets.

Importing this package loads only the pure modules (``layout``, ``render``),
so QA can read the layout without pulling in sockets.
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
]
