import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def banking_slice():
    """20 BANKING77 intents × 15 rows (CC BY 4.0): 10 per intent to train, 5 to test."""
    rows = [json.loads(line) for line in (DATA / "banking77_slice.jsonl").read_text().splitlines()]
    train, test, seen = [], [], {}
    for r in rows:
        seen[r["label"]] = seen.get(r["label"], 0) + 1
        (train if seen[r["label"]] <= 10 else test).append(r)
    return train, test


@pytest.fixture(scope="session")
def banking_model(banking_slice):
    from supportdesk.ai import training

    train, _ = banking_slice
    return training.train([r["text"] for r in train], [r["label"] for r in train])
