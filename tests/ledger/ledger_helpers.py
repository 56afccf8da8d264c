"""Helpers of the ledger tests (a module of its own: conftest modules of several directories collide)."""

import datetime as dt

NOW = dt.datetime(2026, 2, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
"""A moment in the 2026-02-24 shift (Asia/Shanghai)."""


def serial_for(doc_type: str, config, n: int) -> str:
    """The n-th blank serial of a document type's stock."""
    return f"{config.documents[doc_type].serial_prefix}{n:08d}"
