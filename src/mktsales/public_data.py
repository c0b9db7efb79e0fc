"""Readers for the public evaluation sets the project measures itself on.

The files are not part of mktsales: they are read at run time from a directory the caller names
(the project's CI keeps them in ``../shared/data``). Each reader applies the label mapping of the
set's SOURCE.md, removes duplicates and leaves out the groups the source calls ambiguous, so that
every figure in ``benchmarks/RESULTS.md`` is reproducible from the raw files.

Every reader returns a list of :class:`LabelledText`; ``view`` tells which part of a set a row
belongs to (for example ``"tasks"`` and ``"titles"`` of O*NET), so figures can be reported per view.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from mktsales.exceptions import MktSalesError

__all__ = [
    "DatasetMissingError",
    "LabelledText",
    "read_emscad",
    "read_esco",
    "read_onet",
    "read_workable",
]


class DatasetMissingError(MktSalesError, FileNotFoundError):
    """A public data set is not where it was looked for."""


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One evaluation row."""

    id: str
    text: str
    label: str
    view: str
    title: str | None = None
    group: str = ""


def _need(path: Path) -> Path:
    if not path.exists():
        raise DatasetMissingError(f"public data set not found: {path}")
    return path


def read_onet(directory: str | PathLike[str]) -> list[LabelledText]:
    """O*NET 27.0 task statements and alternate titles (views ``tasks`` and ``titles``).

    Labels come from the occupation (SOURCE.md); every row is kept.
    """
    root = Path(directory)
    out = []
    for view in ("tasks", "titles"):
        with _need(root / f"onet27_{view}.tsv").open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                out.append(LabelledText(row["id"], row["text"], row["label"], view, group=row["occupation"]))
    return out


EMSCAD_FUNCTIONS = {
    "Marketing": "marketing",
    "Advertising": "marketing",
    "Public Relations": "marketing",
    "Sales": "sales",
    "Business Development": "sales",
}


def read_emscad(directory: str | PathLike[str]) -> list[LabelledText]:
    """EMSCAD postings with an employer-set ``function`` (view ``postings``).

    Marketing: Marketing, Advertising, Public Relations; sales: Sales, Business Development; any
    other non-empty function: other. Rows without a function are left out, and a posting whose
    title and description repeat an earlier row is counted once. The text is the description and
    the requirements; the title is passed separately; the company profile and benefits are not
    about the job and are left out.
    """
    path = _need(Path(directory) / "fake_job_postings.csv")
    out = []
    seen: set[tuple[str, str]] = set()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            function = (row.get("function") or "").strip()
            if not (row.get("job_id") or "").strip() or not function:
                continue
            key = ((row["title"] or "").strip(), (row["description"] or "").strip())
            if key in seen:
                continue
            seen.add(key)
            body = "\n".join(part for part in (row["description"], row["requirements"]) if part and part.strip())
            out.append(
                LabelledText(
                    id=f"emscad-{row['job_id']}",
                    text=body,
                    label=EMSCAD_FUNCTIONS.get(function, "other"),
                    view="postings",
                    title=row["title"] or None,
                    group=function,
                )
            )
    return out


WORKABLE_FUNCTIONS = {"Marketing": "marketing", "Public Relations": "marketing", "Sales": "sales"}
WORKABLE_AMBIGUOUS = frozenset({"Retail", "Media and Communication", "Customer service", "Real Estate"})
_WORKABLE_FIELDS = ("JD.Job brief", "JD.Responsibilities", "JD.Requirements ad skills")


def read_workable(directory: str | PathLike[str]) -> list[LabelledText]:
    """Workable job-description templates (view ``postings``).

    Both files are read and deduplicated on the title (the split they come in is not clean).
    Marketing: Marketing, Public Relations; sales: Sales; ambiguous functions (Retail, Media and
    Communication, Customer service, Real Estate) and titles filed under more than one function are
    left out; the rest is other. The text is the job brief, responsibilities and requirements.
    """
    import pandas as pd

    root = Path(directory)
    frames = [pd.read_excel(_need(root / name), dtype=str) for name in ("training_data.xlsx", "testing_data.xlsx")]
    rows = pd.concat(frames, ignore_index=True).fillna("")
    functions: dict[str, set[str]] = {}
    for title_value, function_value in zip(rows["Job_Title"], rows["Job_Function"], strict=True):
        functions.setdefault(str(title_value).strip().lower(), set()).add(str(function_value))
    out: list[LabelledText] = []
    seen: set[str] = set()
    for _, row in rows.iterrows():
        title = str(row["Job_Title"]).strip()
        key = title.lower()
        if not title or key in seen:
            continue
        seen.add(key)
        funcs = functions[key]
        if len(funcs) > 1:
            continue
        function = next(iter(funcs))
        if function in WORKABLE_AMBIGUOUS:
            continue
        body = "\n".join(str(row[f]) for f in _WORKABLE_FIELDS if str(row[f]).strip())
        out.append(
            LabelledText(
                id=f"workable-{len(out)}",
                text=body,
                label=WORKABLE_FUNCTIONS.get(function, "other"),
                view="postings",
                title=title,
                group=function,
            )
        )
    return out


_ESCO_MARKETING_GROUPS = frozenset({"2431", "1222", "2432"})
_ESCO_SALES_GROUPS = frozenset({"2433", "2434", "3322", "5223", "5242", "5243", "5244"})
_ESCO_MIXED_MARKETING = frozenset({"chief marketing officer", "marketing manager", "promotion manager"})
_ESCO_MIXED_SALES = frozenset(
    {
        "sales manager",
        "commercial director",
        "online sales channel manager",
        "motor vehicle aftersales manager",
        "category manager",
        "advertising sales agent",
    }
)
_ESCO_AMBIGUOUS_GROUPS = frozenset(
    {"1221", "1420", "3324", "5249", "3339", "5230", "5221", "5222", "5211", "5212", "4222"}
)
#: Occupations SOURCE.md flags inside the marketing groups that a marketing-vs-sales reader would
#: not call marketing (business development, customer relations, revenue, politics, fundraising).
_ESCO_LEFT_OUT = frozenset(
    {
        "business developer",
        "client relations manager",
        "customer experience manager",
        "pricing specialist",
        "hospitality revenue manager",
        "election agent",
        "campaign canvasser",
        "political party agent",
        "fundraising manager",
    }
)


def _esco_label(group: str, name: str) -> str | None:
    if name in _ESCO_LEFT_OUT:
        return None
    if name in _ESCO_MIXED_MARKETING:
        return "marketing"
    if name in _ESCO_MIXED_SALES:
        return "sales"
    if group in _ESCO_MARKETING_GROUPS:
        return "marketing"
    if group in _ESCO_SALES_GROUPS:
        return "sales"
    if group in _ESCO_AMBIGUOUS_GROUPS:
        return None
    return "other"


def read_esco(directory: str | PathLike[str]) -> list[LabelledText]:
    """ESCO occupations (views ``titles``: preferred and alternative titles; ``descriptions``).

    Labels follow the ISCO-08 mapping of SOURCE.md; the ambiguous groups and the flagged
    occupations are left out. A lower-cased title that occurs under two occupations is kept once,
    and only when both agree on the label.
    """
    path = _need(Path(directory) / "occupations_en.csv")
    titles: dict[str, tuple[str, str]] = {}
    clashes: set[str] = set()
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            group = (row["iscoGroup"] or "").strip()
            name = (row["preferredLabel"] or "").strip()
            label = _esco_label(group, name.lower())
            if label is None:
                continue
            uri = row["conceptUri"].rsplit("/", 1)[-1]
            if row["description"].strip():
                out.append(LabelledText(f"esco-d-{uri}", row["description"], label, "descriptions", group=group))
            for t in [name, *(row["altLabels"] or "").split("\n")]:
                t = t.strip()
                key = t.lower()
                if not t:
                    continue
                if key in titles and titles[key][1] != label:
                    clashes.add(key)
                titles.setdefault(key, (t, label))
    for i, (key, (t, label)) in enumerate(sorted(titles.items())):
        if key not in clashes:
            out.append(LabelledText(f"esco-t-{i}", t, label, "titles"))
    return out
