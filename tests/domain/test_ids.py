from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from domain.clock import FixedClock
from domain.ids import UuidV7Generator, uuid7, uuid7_time


def test_uuid7_has_version_variant_and_time() -> None:
    clock = FixedClock(datetime(2021, 3, 1, 8, 0, 0, 123000, tzinfo=UTC))
    value = UuidV7Generator(clock).new()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert uuid7_time(value) == clock.now()


def test_ids_increase_when_the_clock_stands_still() -> None:
    gen = UuidV7Generator(FixedClock())
    ids = [gen.new() for _ in range(10_000)]  # more than the 4,096 per millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_increase_when_the_clock_jumps_back() -> None:
    clock = FixedClock()
    gen = UuidV7Generator(clock)
    before = gen.new()
    clock.advance(timedelta(days=-400))
    after = gen.new()
    assert after > before


def test_ids_from_threads_are_unique() -> None:
    gen = UuidV7Generator()
    out: list[uuid.UUID] = []
    lock = threading.Lock()

    def work() -> None:
        made = [gen.new() for _ in range(2_000)]
        with lock:
            out.extend(made)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 8_000


def test_default_generator_follows_wall_clock() -> None:
    assert abs(uuid7_time(uuid7()) - datetime.now(UTC)) < timedelta(seconds=5)
