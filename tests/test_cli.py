"""The command line: main(argv) -> exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mktsales.cli import main


def test_classify_prints_label_and_confidence(capsys: pytest.CaptureFixture[str]) -> None:
    """`mktsales classify TEXT` prints the label."""
    assert main(["classify", "Own the quarterly pipeline and close enterprise deals"]) == 0
    assert capsys.readouterr().out.startswith("sales\t")


def test_classify_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the full prediction."""
    assert main(["classify", "--json", "Senior Brand Manager"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["label"] == "marketing"
    assert len(d["dimensions"]) == 5


def test_explain_shows_dimensions_and_highlights(capsys: pytest.CaptureFixture[str]) -> None:
    """`explain` shows the label, the five dimensions and the highlighted evidence."""
    assert main(["explain", "Close deals and grow brand awareness"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("label: ")
    for dim in ("objective", "level", "scope", "nature", "horizon"):
        assert dim in out
    assert "[Close deals]{sales}" in out
    assert "[brand awareness]{marketing}" in out


def test_explain_with_title(capsys: pytest.CaptureFixture[str]) -> None:
    """--title is used and shown."""
    assert main(["explain", "Manage accounts.", "--title", "Key Account Manager"]) == 0
    assert "title: Key Account Manager" in capsys.readouterr().out


def test_rules_summary_and_bad_rules_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rules` validates a file: 0 on the shipped rules, 2 with file:line on a bad one."""
    assert main(["rules"]) == 0
    assert "rules, sha256" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    assert main(["rules", str(bad)]) == 2
    assert f"{bad}:1:" in capsys.readouterr().err


def test_untrusted_model_is_refused_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model file without checksum is refused by the CLI too."""
    model = tmp_path / "m.joblib"
    model.write_bytes(b"whatever")
    assert main(["classify", "x", "--model", str(model)]) == 2
    assert "refusing to load" in capsys.readouterr().err


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown commands are usage errors (exit 2)."""
    assert main(["frobnicate"]) == 2


@pytest.mark.parametrize("flag", [False, True])
def test_train_passes_the_shipped_setting_as_incumbent_unless_told_not_to(
    flag: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mktsales train` hands the shipped model's chosen setting to the selection rule;
    `--no-incumbent` hands none."""
    import mktsales.training
    from mktsales.persistence import default_model_card
    from mktsales.training import TrainResult

    seen: dict[str, object] = {}

    def fake_train(corpus: object, out: object, *, seed: int, incumbent: object, log: object) -> TrainResult:
        seen["incumbent"] = incumbent
        metrics = {"macro_f1": 0.5, "mvs_f1": 0.5}
        return TrainResult(tmp_path / "m.joblib", "0" * 64, {"dev": metrics, "test": metrics})

    monkeypatch.setattr(mktsales.training, "train", fake_train)
    argv = ["train", "--out", str(tmp_path), "--quiet"] + (["--no-incumbent"] if flag else [])
    assert main(argv) == 0
    assert seen["incumbent"] == (None if flag else default_model_card()["chosen"])
    assert "wrote" in capsys.readouterr().out
