"""``factory sample``: write a seeded day of applications with photos and signatures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2

from factory.config import load_config
from factory.pngio import write_png
from factory.qa.faces import FaceDetector
from factory.records import parse_application
from factory.samples import SampleApplication, SignatureWriter, generate_applications
from factory.samples.generate import draw_images

__all__ = ["register", "ImagePool", "write_sample", "write_images", "write_records", "summarize"]

_tools: tuple[SignatureWriter, FaceDetector] | None = None

PNG_LEVEL = 1
"""zlib-ng level of the sample's PNGs: speed first (10,000 portraits in a minute)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="generate realistic applications (JSON lines, photos, signatures)",
        description="Write N applications accepted on one day to DIR/applications.jsonl, with "
        "their portraits in DIR/photos/ and signatures in DIR/signatures/. Deterministic for a seed. "
        "DIR/truth.jsonl records injected applicant mistakes for evaluation (QA never reads it).",
    )
    parser.add_argument("--count", type=int, required=True, help="number of applications")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 2, 24),
                        help="acceptance day, YYYY-MM-DD (default 2026-02-24, in the Spring Festival peak)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.add_argument("--no-images", action="store_true", help="write the records only (paths still set)")
    parser.add_argument("--signature-error-rate", type=float, default=0.02,
                        help="share of applicants with a mistakable character who sign its look-alike")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="image processes")
    parser.set_defaults(run=run)


def _init_worker() -> None:
    global _tools  # one font and one cascade per worker process, loaded once
    cv2.setNumThreads(1)  # the pool already keeps every core busy
    _tools = (SignatureWriter(), FaceDetector())


def _write_images(batch: list[SampleApplication]) -> int:
    assert _tools is not None
    writer, detector = _tools
    for sample in batch:
        photo, signature = draw_images(sample, writer, detector)
        # Not atomic: the records that name these files are written after all of them.
        # Level 1: 2.3 instead of 3.8 CPU-ms a portrait, for files ~225 KiB instead of ~150.
        write_png(sample.record["photo"], photo, level=PNG_LEVEL, atomic=False)
        write_png(sample.record["signature"], signature, level=PNG_LEVEL, atomic=False)
    return len(batch)


class ImagePool:
    """Processes that draw and write sample images, started once and used for batch after batch.

    Each worker loads its font and face cascade once; the demo, which feeds the
    day in batches, keeps one pool for the whole day instead of starting (and
    importing into) new processes for every batch. With ``workers <= 1`` the
    images are drawn in this process.
    """

    def __init__(self, workers: int = 1) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            # Spawned, not forked: a caller with threads of its own (a ZeroMQ context, a server) would fork
            # children holding copies of locks those threads held, and they could wait on them forever.
            self._pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                             mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> "ImagePool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def write(self, samples: list[SampleApplication], *, chunk: int = 50,
              meanwhile: Callable[[], None] | None = None) -> None:
        """Draw and write every sample's photo and signature (to the paths its record names).

        Each worker draws, checks and writes its own files (only the records go
        to the workers, never pixels). ``meanwhile`` runs in this process while
        the workers draw; if it raises, the batches not started are cancelled.
        """
        directories = {str(Path(s.record[key]).parent) for s in samples for key in ("photo", "signature")}
        for directory in directories:
            Path(directory).mkdir(parents=True, exist_ok=True)
        batches = [samples[i:i + chunk] for i in range(0, len(samples), chunk)]
        if self._pool is None:
            if meanwhile is not None:
                meanwhile()
            if _tools is None:
                _init_worker()
            for batch in batches:
                _write_images(batch)
            return
        futures = [self._pool.submit(_write_images, batch) for batch in batches]
        try:
            if meanwhile is not None:
                meanwhile()
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def write_images(
    samples: list[SampleApplication], *, workers: int = 1, chunk: int = 50,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Draw and write every sample's photo and signature with a pool of ``workers`` started for this call.

    See ``ImagePool.write``; callers with several batches keep one ``ImagePool``.
    """
    with ImagePool(workers) as pool:
        pool.write(samples, chunk=chunk, meanwhile=meanwhile)


def write_records(path: Path, samples: list[SampleApplication]) -> None:
    """Write the records as JSON lines, whole or not at all (written beside, then renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for sample in samples:
            handle.write(json.dumps(sample.record, ensure_ascii=False) + "\n")
    tmp.replace(path)


def write_sample(
    out: Path, count: int, seed: int, config, *, day: dt.date, images: bool = True,
    signature_error_rate: float = 0.02, workers: int = 1,
) -> list[SampleApplication]:
    """Generate and write a sample; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    samples = generate_applications(
        count, seed, config, day=day, image_dir=str(out.resolve()), signature_error_rate=signature_error_rate
    )
    def validate() -> None:  # never write an invalid record
        for number, sample in enumerate(samples, 1):
            parse_application(sample.record, config, where=f"generated record {number}")

    if images:
        write_images(samples, workers=workers, meanwhile=validate)  # validated while the workers draw
    else:
        validate()
    write_records(out / "applications.jsonl", samples)
    with (out / "truth.jsonl").open("w", encoding="utf-8") as handle:
        for sample in samples:
            if sample.truth:
                handle.write(json.dumps({"application_id": sample.record["application_id"], **sample.truth},
                                        ensure_ascii=False) + "\n")
    return samples


def summarize(samples: list[SampleApplication]) -> str:
    records = [s.record for s in samples]
    docs = Counter(r["doc_type"] for r in records)
    classes = Counter(r["service_class"] for r in records)
    points = Counter(r["acceptance_point"] for r in records)
    mail = sum(r["delivery"] == "mail" for r in records)
    mistakes = sum(bool(s.truth) for s in samples)
    lines = [f"{len(records)} applications"]
    lines.append("  by document:      " + ", ".join(f"{k} {v}" for k, v in docs.most_common()))
    lines.append("  by service class: " + ", ".join(f"{k} {v}" for k, v in classes.most_common()))
    lines.append(f"  acceptance points: {len(points)} (busiest: {points.most_common(1)[0][0] if points else '-'})")
    lines.append(f"  mail delivery: {mail}; look-alike signatures injected: {mistakes}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.count < 0:
        raise SystemExit("factory sample: --count must not be negative")
    config = load_config(args.config)
    samples = write_sample(
        args.out, args.count, args.seed, config, day=args.date, images=not args.no_images,
        signature_error_rate=args.signature_error_rate, workers=args.workers,
    )
    print(summarize(samples))
    print(f"written to {args.out}/applications.jsonl")
    return 0
