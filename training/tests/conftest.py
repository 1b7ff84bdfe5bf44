# Shared fixtures for the training tests: the smoke recipe (configs/smoke.json on the committed
# corpus in tests/data) run once per session into a temporary work root, all steps.
import json
import os
import sys

import pytest

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)

import torch  # noqa: E402

torch.set_num_threads(1)


def smoke_config(**overrides):
    cfg = json.load(open(os.path.join(TRAINING, "configs", "smoke.json")))
    for k, v in overrides.items():
        cfg[k] = v
    return cfg


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The smoke recipe, run through every step (corpus .. export)."""
    from slipstream_train.run import Recipe, STEPS
    work = str(tmp_path_factory.mktemp("work"))
    r = Recipe(smoke_config(), work)
    for s in STEPS:
        getattr(r, "step_" + s)()
    return r
