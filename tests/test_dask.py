"""Labelling on Dask: a real two-worker LocalCluster gives the single-process results, one model per worker."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import mktsales.dask  # noqa: E402 - after the skips: needs the dask extra
from mktsales import Classifier  # noqa: E402
from mktsales.batch import label_dataframe  # noqa: E402
from mktsales.cli import main  # noqa: E402
from mktsales.exceptions import InputTypeError  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = [
    ("Senior Brand Manager", "Plan the annual brand campaign and commission consumer research."),
    ("Realtor", "Show homes, negotiate offers and close sales."),
    ("Registered nurse", "Care for patients on a busy surgical ward."),
    (None, "Own the quarterly pipeline and close enterprise deals"),
    (None, None),
    ("SEO specialist", ""),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real cluster: two worker processes, one thread each."""
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _frame(repeat: int = 3) -> Any:
    rows = TEXTS * repeat
    return pd.DataFrame({"id": range(len(rows)), "title": [t for t, _ in rows], "text": [x for _, x in rows]})


def test_dask_label_equals_single_process_and_loads_once_per_worker(client: Any) -> None:
    """Six partitions on two workers: same frame as label_dataframe, and each worker loaded the model once."""
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=6)
    got = mktsales.dask.label(ddf, "text", title_column="title").compute()
    # compare on the data as Dask holds it (Dask may convert string dtypes)
    pd.testing.assert_frame_equal(got, label_dataframe(ddf.compute(), "text", title_column="title"))
    assert got["label"].tolist() == label_dataframe(df, "text", title_column="title")["label"].tolist()
    assert got["reason"].iloc[4] == "missing_text"
    loads = client.run(mktsales.dask._load_counts)
    assert len(loads) == 2
    per_worker = [counts.get("default", 0) for counts in loads.values()]
    assert all(n <= 1 for n in per_worker), loads
    assert sum(per_worker) >= 1
    # a second job reuses what the workers loaded
    mktsales.dask.label(ddf, "text", title_column="title").compute()
    assert client.run(mktsales.dask._load_counts) == loads


def test_dask_label_ships_a_custom_classifier_once_per_worker(client: Any) -> None:
    """A classifier passed in is sent to each worker once and gives the same results as locally."""
    custom = Classifier.load(thresholds={"confidence": 1.0})  # every scored row below certainty
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=6)
    got = mktsales.dask.label(ddf, "text", title_column="title", classifier=custom, prefix="c_").compute()
    expected = label_dataframe(ddf.compute(), "text", title_column="title", classifier=custom, prefix="c_")
    pd.testing.assert_frame_equal(got, expected)
    assert got["c_uncertain"].sum() > label_dataframe(df, "text", title_column="title")["uncertain"].sum()
    shipped = [counts.get("shipped", 0) for counts in client.run(mktsales.dask._load_counts).values()]
    assert all(n <= 1 for n in shipped)
    assert sum(shipped) >= 1


def test_label_command_on_a_scheduler_equals_local_run(client: Any, tmp_path: Path) -> None:
    """`mktsales label --scheduler ADDRESS` writes the same bytes as the local run."""
    src = tmp_path / "in.csv"
    _frame(repeat=4).to_csv(src, index=False)
    common = ["--text-column", "text", "--title-column", "title", "--chunk-size", "7", "--batch-size", "3", "-q"]
    assert main(["label", str(src), "-o", str(tmp_path / "local.csv"), *common]) == 1
    address = client.scheduler.address
    assert main(["label", str(src), "-o", str(tmp_path / "dask.csv"), "--scheduler", address, *common]) == 1
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert (tmp_path / "dask.csv.errors.jsonl").read_text() == (tmp_path / "local.csv.errors.jsonl").read_text()


def test_unreachable_scheduler_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler that does not answer gives exit 2 and names the address."""
    monkeypatch.setattr(mktsales.dask, "CONNECT_TIMEOUT", 1)
    src = tmp_path / "in.csv"
    _frame(repeat=1).to_csv(src, index=False)
    code = main(
        ["label", str(src), "-o", str(tmp_path / "o.csv"), "--text-column", "text", "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert code == 2
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_dask_label_local_scheduler_and_docstring() -> None:
    """Without a cluster the local scheduler is used; the module's examples run."""
    ddf = dd.from_pandas(_frame(repeat=1), npartitions=2)
    with pytest.raises(InputTypeError, match="DataFrame"):
        mktsales.dask.label(_frame(), "text")
    got = mktsales.dask.label(ddf, "text", title_column="title").compute(scheduler="sync")
    assert got["label"].iloc[:3].tolist() == ["marketing", "sales", "other"]
    assert doctest.testmod(mktsales.dask, optionflags=doctest.ELLIPSIS).failed == 0
