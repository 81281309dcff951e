"""What start-up loads for good is kept out of the garbage collector's full collections."""

from __future__ import annotations

import gc

from clearance import bootstrap
from clearance.service.assessing import Assessor


def test_the_packs_and_models_loaded_at_start_up_are_frozen() -> None:
    engine = Assessor("test-identity-key-0123")
    try:
        bootstrap.settle_memory()
        frozen = gc.get_freeze_count()
        # every pack's tariff lines are among them (VN alone has 11,414), not walked again
        assert frozen > 100_000
        assert gc.is_tracked(engine.packs) and engine.packs not in gc.get_objects()
    finally:
        gc.unfreeze()


def test_the_worker_collects_its_young_objects_less_often() -> None:
    before = gc.get_threshold()  # a worker run in this process may have changed it already
    try:
        gc.set_threshold(700, 10, 10)  # the interpreter's default, which the API keeps
        bootstrap.settle_memory()
        assert gc.get_threshold() == (700, 10, 10)
        bootstrap.settle_memory(young_collection_every=bootstrap.WORKER_YOUNG_COLLECTION_EVERY)
        assert gc.get_threshold() == (200_000, 10, 10)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
