"""An instant simulated device: the simulator's own machine core, in the worker's process, with no print time.

``InstantDevice`` implements ``PrinterDriver`` over
``factory.devices.machine.PrinterMachine`` (the decision core of
``factory device-sim``: states, blank stock, queue, job log) on a virtual
clock that jumps ahead at every look, so a job is executed as soon as it is
submitted. No pages are rendered and nothing survives the process: it is for
measuring the pipeline (``benchmarks/bench_dispatch.py``) and for demos
(``factory worker --device instant``), not for fault tests, which run the
simulator as its own process.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from factory.config import Config
from factory.devices.driver import (
    Acceptance,
    BlankLoad,
    DeviceEvent,
    DeviceStatus,
    JobRecord,
    PrintJob,
)
from factory.devices.machine import MachineSpec, PrinterMachine, Refusal

__all__ = ["InstantDevice"]

_CYCLE_S = 1e-3
_JUMP_S = 3600.0


class InstantDevice:
    """A ``PrinterDriver`` whose documents print the moment they are looked for."""

    def __init__(self, device_id: str, pool: str, config: Config, *, queue_limit: int = 64,
                 blanks_per_prefix: int = 1_000_000, seed: int = 0) -> None:
        self.device_id = device_id
        self._documents = config.documents
        self._pool = pool
        spec = MachineSpec(device_id=device_id, pool=pool, cycle_s=(_CYCLE_S, _CYCLE_S), queue_limit=queue_limit)
        self._machine = PrinterMachine(spec, np.random.default_rng(seed), admit=self._admit,
                                       today=lambda now: "2026-02-24")
        self._now = 1.0
        self._log: list[DeviceEvent] = []
        prefixes = sorted({d.serial_prefix for d in config.documents.values() if d.pool == pool})
        # Serials are generated lazily by prefix ranges: a million per stock without a million strings up front.
        self._next_serial = {p: 0 for p in prefixes}
        self._blanks_left = {p: blanks_per_prefix for p in prefixes}
        # A tag unique on the line keeps two devices' serials apart: the machine's place in line.toml.
        ids = [m.id for m in config.line.machines]
        self._device_tag = 10 + (ids.index(device_id) if device_id in ids else zlib.crc32(device_id.encode()) % 80)
        for prefix in prefixes:
            self._top_up(prefix)

    def _top_up(self, prefix: str, batch: int = 256) -> None:
        count = min(batch, self._blanks_left[prefix])
        if count <= 0:
            return
        start = self._next_serial[prefix]
        serials = [f"{prefix}{self._device_tag:02d}{n:06d}" for n in range(start, start + count)]
        self._next_serial[prefix] += count
        self._blanks_left[prefix] -= count
        self._machine.load_blanks(serials, self._now)

    def _admit(self, job: PrintJob) -> tuple[str, str, str]:
        doc_type = job.record.get("doc_type")
        document = self._documents.get(doc_type) if isinstance(doc_type, str) else None
        if document is None:
            raise Refusal("invalid_job", f"unknown doc_type {doc_type!r}")
        if document.pool != self._pool:
            raise Refusal("wrong_pool", f"{doc_type} prints on {document.pool} blanks")
        stock = self._machine.status(self._now).blanks.get(document.serial_prefix, 0)
        if stock < 64:
            self._top_up(document.serial_prefix)
        return doc_type, document.serial_prefix, str(job.record.get("application_id", job.job_id))

    def _collect(self) -> None:
        # Run every print to its end, one wake-up at a time, as the simulator's own loop does.
        horizon = self._now + _JUMP_S
        machine = self._machine
        while (wake := machine.next_wakeup()) is not None and wake <= horizon:
            self._now = max(self._now, wake)
            machine.advance(self._now)
        self._log.extend(machine.take_events())
        self._machine.take_changes()
        self._machine.take_prints()
        if len(self._log) > 100_000:  # keep the tail: workers only ever ask for recent events
            del self._log[:50_000]

    # ------------------------------------------------------------------ PrinterDriver

    def submit(self, job: PrintJob) -> Acceptance:
        acceptance = self._machine.submit(job, self._now)
        self._log.extend(self._machine.take_events())
        return acceptance

    def events(self, after: int = 0, *, wait_s: float = 0.0, limit: int = 500) -> tuple[DeviceEvent, ...]:
        self._collect()
        first = 0
        if self._log and after >= self._log[0].seq:
            first = after - self._log[0].seq + 1
        return tuple(self._log[first:first + limit])

    def status(self) -> DeviceStatus:
        self._collect()
        return self._machine.status(self._now)

    def job_log(self, job_id: str) -> tuple[JobRecord, ...]:
        self._collect()
        return self._machine.job_log(job_id)

    def pause(self) -> DeviceStatus:
        return self._machine.pause(self._now)

    def resume(self) -> DeviceStatus:
        return self._machine.resume(self._now)

    def drain(self) -> DeviceStatus:
        return self._machine.drain(self._now)

    def clear_fault(self) -> DeviceStatus:
        return self._machine.clear_fault(self._now)

    def load_blanks(self, serials: Sequence[str]) -> BlankLoad:
        return self._machine.load_blanks(serials, self._now)

    def close(self) -> None:
        pass

    @property
    def blanks(self) -> Mapping[str, int]:
        return self._machine.status(self._now).blanks
