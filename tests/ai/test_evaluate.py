import json

from supportdesk.ai import evaluate


def _rows(slice_rows, prefix):
    return [dict(r, id=f"toy:{prefix}:{i}") for i, r in enumerate(slice_rows)]


def test_classify_metrics_with_oos(banking_slice):
    train, test = banking_slice
    labels = sorted({r["label"] for r in train})[:8]
    train = [r for r in train if r["label"] in labels]
    test = [r for r in test if r["label"] in labels] + [
        {"id": "o1", "text": "What is the capital of Australia?", "label": "oos"},
        {"id": "o2", "text": "Recommend me a good lasagna recipe", "label": "oos"},
    ]
    m = evaluate.classify_metrics(train, test)
    assert m["n_test"] == len(test) and m["n_test_oos"] == 2 and m["n_classes"] == 8
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "forced_in_scope_accuracy", "oos_recall"):
        assert 0 <= m[key] <= 100
    assert m["forced_in_scope_accuracy"] >= 60
    assert m["forced_in_scope_accuracy"] >= m["in_scope_accuracy"]
    assert m["oos_recall"] >= 50
    assert "oos_precision" in m


def test_classify_metrics_without_oos_has_no_oos_keys(banking_slice):
    train, test = banking_slice
    labels = sorted({r["label"] for r in train})[:5]
    m = evaluate.classify_metrics(
        [r for r in train if r["label"] in labels], [r for r in test if r["label"] in labels]
    )
    assert "oos_recall" not in m and m["n_test_oos"] == 0


def test_split_rows_uses_ids_then_stratified_holdout():
    rows = [{"id": f"d:train:{i}", "text": str(i), "label": "ab"[i % 2]} for i in range(20)]
    rows += [
        {"id": "d:val:0", "text": "v", "label": "a"},
        {"id": "d:oos_train:0", "text": "o", "label": "oos"},
    ]
    train, test = evaluate.split_rows(rows)
    assert [r["id"] for r in test] == ["d:val:0"] and len(train) == 21
    train, test = evaluate.split_rows(rows[:20])
    assert len(test) == 4 and {r["label"] for r in test} == {"a", "b"}
    assert not {r["id"] for r in train} & {r["id"] for r in test}


def test_cli_prints_json(tmp_path, capsys, banking_slice):
    train, test = banking_slice
    labels = sorted({r["label"] for r in train})[:4]
    rows = _rows([r for r in train if r["label"] in labels], "train") + _rows(
        [r for r in test if r["label"] in labels], "test"
    )
    path = tmp_path / "toy.jsonl"
    path.write_text("\n".join(json.dumps(dict(r, subset="s1")) for r in rows) + "\n")
    assert evaluate.main(["classify", "--train", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_test"] == 20 and out["forced_in_scope_accuracy"] >= 60
    assert evaluate.main(["classify", "--train", str(path), "--test", str(path), "--per-subset"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"s1"} and out["s1"]["n_test"] == len(rows)
