"""``LedgerLine``: a ``LineControl`` built from the ledger, the scheduler and the printers' own reports.

This is the line as the panel needs it when it runs beside a controller
that keeps its state in the ledger: machine holds come from the ledger's
in-flight jobs, pause/drain/resume are station events in the ledger's
hand-over log (so they survive a restart and name who did them), the plan
is the scheduler's over the ledger's queue, and a green-channel application
is validated by the ledger's intake and stored with a placement computed by
``admit_green``. What only a device knows (fault, blanks in the hopper) comes
from ``device_reports``: a callable returning, per connected machine, a
mapping with ``state`` (a ``factory.devices.driver.MachineState`` value such as
``Busy`` or ``Fault``), ``fault`` and ``blanks_left`` (the controller's latest
heartbeats); a machine missing from it is offline.

The controller (``factory.pipeline.controller``) reads the panel's
``machine_paused`` / ``machine_draining`` / ``machine_resumed`` station events
from the ledger and sends the matching control to the machine's worker, and
picks up green-channel and requeued applications from the ledger: the panel
and the controller share nothing but the ledger file.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from factory.config import POOLS, Config
from factory.errors import InvalidField, InvalidRecord
from factory.ledger import Ledger, prepare_intake
from factory.panel import ledger_views as views
from factory.panel.line import GreenPlacement, MachineStatus, PoolStock
from factory.panel.planning import place_green, plan_report
from factory.scheduler import WorkingCalendar, build_calendar, line_arrays, shift_hours_for

__all__ = ["DeviceReports", "LedgerLine"]

_EVENT_MODE = {"machine_paused": "paused", "machine_draining": "draining", "machine_resumed": "running"}


DeviceReports = Callable[[], Mapping[str, Mapping[str, Any]]]
"""Machine id -> its latest report (``state``, ``fault``, ``blanks_left``); thread-safe."""

_DEVICE_STATES = {"idle": "idle", "busy": "busy", "pausing": "draining", "stopping": "draining", "paused": "paused",
                  "offline": "offline", "fault": "fault"}


class LedgerLine:
    """A thread-safe ``LineControl`` over one ledger connection (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        *,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], float] = time.time,
        device_reports: DeviceReports | None = None,
        blanks_in_store: Mapping[str, int] | None = None,
        peak_shifts: bool = False,
        lock: threading.RLock | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.calendar = calendar or build_calendar(config.calendar)
        self.clock = clock
        self.device_reports = device_reports
        self.blanks_in_store = {pool: int((blanks_in_store or {}).get(pool, 0)) for pool in POOLS}
        self.lock = lock or threading.RLock()
        self._ids = tuple(m.id for m in config.line.machines)
        self._mode: dict[str, tuple[str, str]] = {m: ("running", "") for m in self._ids}
        with self.lock:
            for machine, (event, station) in views.last_machine_events(ledger).items():
                if machine in self._mode:
                    self._mode[machine] = (_EVENT_MODE[event], station.removeprefix("panel:"))
            self._peak = peak_shifts
            for row in views.handover(ledger, event="peak_shifts", limit=1):
                self._peak = row["reason"] == "on"

    # ------------------------------------------------------------------ machines

    def _check_machine(self, machine_id: str) -> None:
        if machine_id not in self._mode:
            raise InvalidField("machine", "is not a machine of the line", machine_id)

    def accepts_jobs(self, machine_id: str) -> bool:
        """Whether the controller may lease a new job to the machine."""
        with self.lock:
            self._check_machine(machine_id)
            return self._mode[machine_id][0] == "running"

    def machines(self) -> list[MachineStatus]:
        now = self.clock()
        with self.lock:
            held: dict[str, str] = {}
            for j in self.ledger.in_flight():  # a machine's current job: the one printing, else one leased to it
                if j.state == "printing" or j.machine not in held:
                    held[j.machine] = j.application_id
            printed = views.printed_in_last_hour(self.ledger, now)
            modes = dict(self._mode)
        reports = dict(self.device_reports()) if self.device_reports is not None else None
        out = []
        for machine in self.config.line.machines:
            mode, by = modes[machine.id]
            job = held.get(machine.id)
            device = dict(reports.get(machine.id) or {}) if reports is not None else {}
            if reports is not None and machine.id not in reports:
                device_state = "offline"  # no worker reports for it
            else:
                device_state = _DEVICE_STATES.get(str(device.get("state", "")).lower(), "")
            if device_state == "offline":
                state = "offline"
            elif device_state == "fault":
                state = "fault"
            elif mode == "paused" or device_state == "paused" or (
                mode == "draining" and job is None and device_state not in ("busy", "draining")
            ):
                state = "paused"
            elif mode == "draining" or device_state == "draining":
                state = "draining"
            else:
                state = "busy" if job or device_state == "busy" else "idle"
            out.append(MachineStatus(
                id=machine.id, pool=machine.pool, state=state, rated_per_hour=machine.rated_per_hour,
                documents_per_hour=float(printed.get(machine.id, 0)), current_job=job,
                fault=str(device.get("fault") or "") if state == "fault" else "",
                blanks_left=device.get("blanks_left"), changed_by=by,
            ))
        return out

    def _set_mode(self, machine_id: str, mode: str, event: str, by: str) -> MachineStatus:
        with self.lock:
            self._check_machine(machine_id)
            self.ledger.record_station_event(f"panel:{by}", event, now=self.clock(), machine=machine_id)
            self._mode[machine_id] = (mode, by)
        return next(m for m in self.machines() if m.id == machine_id)

    def pause(self, machine_id: str, by: str) -> MachineStatus:
        return self._set_mode(machine_id, "paused", "machine_paused", by)

    def drain(self, machine_id: str, by: str) -> MachineStatus:
        return self._set_mode(machine_id, "draining", "machine_draining", by)

    def resume(self, machine_id: str, by: str) -> MachineStatus:
        return self._set_mode(machine_id, "running", "machine_resumed", by)

    def _down(self) -> list[str]:
        return [m.id for m in self.machines() if m.state in ("paused", "fault", "offline")]

    # ------------------------------------------------------------------ plan and shifts

    def peak_shifts(self) -> bool:
        with self.lock:
            return self._peak

    def set_peak_shifts(self, on: bool, by: str) -> None:
        with self.lock:
            self.ledger.record_station_event(f"panel:{by}", "peak_shifts", now=self.clock(),
                                             reason="on" if on else "off")
            self._peak = bool(on)

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), self.config.line.tz)

    def plan(self, peak_shifts: bool) -> dict[str, Any]:
        down = self._down()
        with self.lock:
            rows = views.queue_rows(self.ledger)
        return plan_report(rows, self.config, self.calendar, today=self._now().date(), peak_shifts=peak_shifts,
                           down=down)

    # ------------------------------------------------------------------ green channel

    def submit_green(self, record: Mapping[str, Any], by: str) -> GreenPlacement:
        green = [name for name in self.config.service_classes if self.config.service_classes[name].priority == 0]
        if record.get("service_class") not in green:
            raise InvalidRecord([InvalidField("service_class", "must be the green channel", record.get("service_class"))],
                                where="green channel")
        admissions, rejections = prepare_intake([("green channel", dict(record))], self.config, self.calendar)
        if rejections:
            raise rejections[0].error
        admission = admissions[0]
        down = self._down()
        busy = self._busy_until()
        now = self._now()
        with self.lock:
            rows = views.queue_rows(self.ledger)
            placement = place_green(rows, self.config, self.calendar, pool=admission.pool, now=now,
                                    peak_shifts=self._peak, down=down, busy_until=busy)
            result = self.ledger.add_applications([admission], station=f"panel:{by}", now=self.clock())
        if result.rejected:
            raise result.rejected[0].error
        if result.already_present:
            raise InvalidRecord([InvalidField("application_id", "is already in the ledger",
                                              admission.application.application_id)], where="green channel")
        return GreenPlacement(
            application_id=admission.application.application_id, pool=admission.pool, machine=placement["machine"],
            starts_at=placement["starts_at"], wait_s=placement["wait_s"],
            queue_position=placement["queue_position"], late_before=placement["late_before"],
            late_after=placement["late_after"], newly_late=tuple(placement["newly_late"]),
        )

    def _busy_until(self) -> dict[str, dt.datetime]:
        """Machines holding a job free at the end of one print cycle from now (a safe upper bound)."""
        now = self._now()
        rated = {m.id: m.rated_per_hour for m in self.config.line.machines}
        return {m.id: now + dt.timedelta(seconds=3600.0 / rated[m.id])
                for m in self.machines() if m.current_job is not None}

    # ------------------------------------------------------------------ stock

    def stock(self) -> list[PoolStock]:
        machines = self.machines()
        today = self._now().date()
        dates = [today]
        hours = shift_hours_for(self.config.line, self.config.seasons, dates, peak_shifts=self.peak_shifts())
        per_day = line_arrays(self.config.line, dates, shift_hours=hours).pool_capacity()[:, 0]
        out = []
        for p, pool in enumerate(POOLS):
            in_machines = sum(m.blanks_left or 0 for m in machines if m.pool == pool)
            out.append(PoolStock(pool=pool, in_store=self.blanks_in_store[pool], in_machines=int(in_machines),
                                 needed_per_day=float(np.asarray(per_day)[p])))
        return out
