"""Keyword rules: the five dimensions written down as data.

A rules file holds one JSON object per line (blank lines and lines starting with ``#`` are
skipped)::

    {"id": "sal.objective.close-deal", "dimension": "objective", "pole": "sales", "weight": 1.5,
     "pattern": [{"LEMMA": "close"}, {"LOWER": {"IN": ["the", "a"]}, "OP": "?"}, {"LEMMA": "deal"}]}
    {"id": "mkt.objective.brand-awareness", "dimension": "objective", "pole": "marketing",
     "weight": 1.0, "pattern": "brand awareness"}

``pattern`` is either a phrase (matched case-insensitively, every word in all its inflections and
British/American spellings unless ``"inflect": false``) or a spaCy token pattern restricted to the
attributes listed in :data:`TOKEN_KEYS` (``LEMMA`` matches every inflection of its base form).
Optional keys: ``inflect`` (bool), ``subfunction`` (str) and ``note`` (str).

Every line is validated on load; the first error raises :class:`~mktsales.exceptions.RuleFileError`
naming the file and the line. Duplicate ids are errors; an empty rule set warns.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from os import PathLike
from pathlib import Path
from typing import Any

from mktsales.dimensions import Dimension, Pole
from mktsales.exceptions import InputTypeError, RuleFileError

__all__ = [
    "DEFAULT_RULES_RESOURCE",
    "TOKEN_KEYS",
    "EmptyRuleSetWarning",
    "Rule",
    "RuleSet",
    "load_rules",
]

DEFAULT_RULES_RESOURCE = "data/rules.jsonl"
#: Token-pattern attributes a rule may use. Matching runs on lower-cased words (words no rule uses
#: are replaced by a placeholder), so attributes that need the original text are not offered.
TOKEN_KEYS = frozenset({"LOWER", "LEMMA", "TEXT", "ORTH", "OP", "IS_PUNCT", "LIKE_NUM", "IS_DIGIT"})
_REQUIRED = ("id", "dimension", "pole", "weight", "pattern")
_OPTIONAL = frozenset({"inflect", "subfunction", "note"})
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,127}$")
#: Largest weight a rule may carry; weights are relative, and 5 is already five ordinary cues.
MAX_WEIGHT = 5.0
_VALUE_OPS = frozenset({"IN", "NOT_IN"})


class EmptyRuleSetWarning(UserWarning):
    """Raised (as a warning) when a rule set holds no rules, so nothing can ever match."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One keyword rule.

    Attributes
    ----------
    id : str
        Stable identifier, unique within a rule set.
    dimension : Dimension
        Which of the five dimensions the rule speaks to.
    pole : Pole
        The pole (marketing or sales) a match points to.
    weight : float
        Strength of one match, in ``(0, 5]``.
    pattern : str or tuple of dict
        A phrase, or a spaCy token pattern.
    inflect : bool
        For phrases: also match inflected forms and other spellings.
    subfunction : str
        The job sub-function the rule belongs to, when there is one.
    note : str
        Free text for people reading the rules.
    source : str
        ``file:line`` the rule was read from (not part of equality).
    """

    id: str
    dimension: Dimension
    pole: Pole
    weight: float
    pattern: str | tuple[dict[str, Any], ...]
    inflect: bool = True
    subfunction: str = ""
    note: str = ""
    source: str = field(default="", compare=False)

    @property
    def is_phrase(self) -> bool:
        """True when the pattern is a phrase rather than a token pattern."""
        return isinstance(self.pattern, str)

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as the JSON object a rules file holds."""
        out: dict[str, Any] = {
            "id": self.id,
            "dimension": self.dimension.value,
            "pole": self.pole.value,
            "weight": self.weight,
            "pattern": self.pattern if isinstance(self.pattern, str) else [dict(t) for t in self.pattern],
        }
        if not self.inflect:
            out["inflect"] = False
        if self.subfunction:
            out["subfunction"] = self.subfunction
        if self.note:
            out["note"] = self.note
        return out


def _check_token(tok: Any, where: str, line: int | None, index: int) -> dict[str, Any]:
    if not isinstance(tok, dict):
        raise RuleFileError(
            f"pattern token {index} must be an object, got {type(tok).__name__}", source=where, line=line
        )
    unknown = set(tok) - TOKEN_KEYS
    if unknown:
        raise RuleFileError(
            f"pattern token {index} uses unsupported key(s) {sorted(unknown)}; allowed: {sorted(TOKEN_KEYS)}",
            source=where,
            line=line,
        )
    for key in ("LOWER", "LEMMA", "TEXT", "ORTH"):
        if key not in tok:
            continue
        value = tok[key]
        if isinstance(value, str):
            if not value.strip():
                raise RuleFileError(f"pattern token {index}: {key} is empty", source=where, line=line)
        elif isinstance(value, dict):
            if not value or set(value) - _VALUE_OPS:
                raise RuleFileError(
                    f"pattern token {index}: {key} takes a string or {{'IN'|'NOT_IN': [...]}}, got {value!r}",
                    source=where,
                    line=line,
                )
            for op, items in value.items():
                if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
                    raise RuleFileError(
                        f"pattern token {index}: {key}.{op} must be a non-empty list of strings",
                        source=where,
                        line=line,
                    )
        else:
            raise RuleFileError(
                f"pattern token {index}: {key} must be a string or an object, got {type(value).__name__}",
                source=where,
                line=line,
            )
    return dict(tok)


def _rule_from_obj(obj: Any, where: str, line: int | None) -> Rule:
    if not isinstance(obj, dict):
        raise RuleFileError(f"a rule must be a JSON object, got {type(obj).__name__}", source=where, line=line)
    missing = [k for k in _REQUIRED if k not in obj]
    if missing:
        raise RuleFileError(f"missing key(s) {missing}", source=where, line=line)
    unknown = set(obj) - set(_REQUIRED) - _OPTIONAL
    if unknown:
        raise RuleFileError(f"unknown key(s) {sorted(unknown)}", source=where, line=line)
    rid = obj["id"]
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise RuleFileError(
            f"id must match {_ID_RE.pattern} (lower-case letters, digits, '.', '_', '-'), got {rid!r}",
            source=where,
            line=line,
        )
    try:
        dimension = Dimension(obj["dimension"])
    except ValueError:
        raise RuleFileError(
            f"rule {rid!r}: dimension must be one of {[d.value for d in Dimension]}, got {obj['dimension']!r}",
            source=where,
            line=line,
        ) from None
    try:
        pole = Pole(obj["pole"])
    except ValueError:
        raise RuleFileError(
            f"rule {rid!r}: pole must be one of {[p.value for p in Pole]}, got {obj['pole']!r}",
            source=where,
            line=line,
        ) from None
    weight = obj["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        raise RuleFileError(f"rule {rid!r}: weight must be a number, got {weight!r}", source=where, line=line)
    if not 0 < weight <= MAX_WEIGHT:
        raise RuleFileError(
            f"rule {rid!r}: weight must be in (0, {MAX_WEIGHT}], got {weight!r}", source=where, line=line
        )
    raw_pattern = obj["pattern"]
    pattern: str | tuple[dict[str, Any], ...]
    if isinstance(raw_pattern, str):
        if not re.search(r"[^\W_]", raw_pattern):
            raise RuleFileError(
                f"rule {rid!r}: phrase pattern has no word in it: {raw_pattern!r}", source=where, line=line
            )
        pattern = raw_pattern
    elif isinstance(raw_pattern, list) and raw_pattern:
        pattern = tuple(_check_token(t, where, line, i) for i, t in enumerate(raw_pattern))
        if all(t.get("OP") in ("?", "*") for t in pattern):
            raise RuleFileError(
                f"rule {rid!r}: token pattern can match nothing (all tokens optional)", source=where, line=line
            )
    else:
        raise RuleFileError(
            f"rule {rid!r}: pattern must be a non-empty string or a non-empty list of token objects, "
            f"got {raw_pattern!r}",
            source=where,
            line=line,
        )
    inflect = obj.get("inflect", True)
    if not isinstance(inflect, bool):
        raise RuleFileError(f"rule {rid!r}: inflect must be true or false, got {inflect!r}", source=where, line=line)
    for key in ("subfunction", "note"):
        if key in obj and not isinstance(obj[key], str):
            raise RuleFileError(f"rule {rid!r}: {key} must be a string", source=where, line=line)
    return Rule(
        id=rid,
        dimension=dimension,
        pole=pole,
        weight=float(weight),
        pattern=pattern,
        inflect=inflect,
        subfunction=obj.get("subfunction", ""),
        note=obj.get("note", ""),
        source=f"{where}:{line}" if line is not None else where,
    )


class RuleSet:
    """An immutable, validated collection of rules with unique ids.

    Parameters
    ----------
    rules : iterable of Rule
        The rules. Duplicate ids raise :class:`~mktsales.exceptions.RuleFileError`.
    name : str, default="custom"
        Where the rules came from (a path or ``"default"``), for reports and manifests.

    Examples
    --------
    >>> rs = RuleSet.from_dicts([{"id": "r1", "dimension": "objective", "pole": "sales",
    ...                           "weight": 1, "pattern": "close deals"}])
    >>> len(rs), rs["r1"].pole.value
    (1, 'sales')
    """

    def __init__(self, rules: Iterable[Rule], *, name: str = "custom") -> None:
        self.name = name
        self._rules: tuple[Rule, ...] = tuple(rules)
        seen: dict[str, Rule] = {}
        for rule in self._rules:
            if not isinstance(rule, Rule):
                raise InputTypeError(f"RuleSet takes Rule objects, got {type(rule).__name__}")
            if rule.id in seen:
                first = seen[rule.id].source or "an earlier rule"
                src, _, line = (rule.source or name).rpartition(":")
                raise RuleFileError(
                    f"duplicate rule id {rule.id!r} (first defined at {first})",
                    source=src or rule.source or name,
                    line=int(line) if line.isdigit() else None,
                )
            seen[rule.id] = rule
        self._by_id = seen
        if not self._rules:
            warnings.warn(
                f"rule set {name!r} is empty: no rule can match, so every text gets rules evidence of zero",
                EmptyRuleSetWarning,
                stacklevel=2,
            )

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> RuleSet:
        """Read and validate a rules file.

        Parameters
        ----------
        path : str or path-like
            A JSON Lines rules file.

        Returns
        -------
        RuleSet

        Raises
        ------
        RuleFileError
            On the first malformed line, naming the file and line number.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RuleFileError("rules file not found", source=str(p)) from None
        except UnicodeDecodeError as exc:
            raise RuleFileError(
                f"rules file is not valid UTF-8 ({exc.reason} at byte {exc.start})", source=str(p)
            ) from None
        return cls._from_text(text, str(p), name=str(p))

    @classmethod
    def default(cls) -> RuleSet:
        """Return the rules shipped with the package (read through :mod:`importlib.resources`)."""
        text = files("mktsales").joinpath(DEFAULT_RULES_RESOURCE).read_text("utf-8")
        return cls._from_text(text, f"mktsales/{DEFAULT_RULES_RESOURCE}", name="default")

    @classmethod
    def from_dicts(cls, objs: Iterable[Mapping[str, Any]], *, name: str = "custom") -> RuleSet:
        """Build a rule set from JSON-like objects, with the same validation as a file."""
        return cls([_rule_from_obj(dict(o), name, i) for i, o in enumerate(objs, start=1)], name=name)

    @classmethod
    def _from_text(cls, text: str, where: str, *, name: str) -> RuleSet:
        rules = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise RuleFileError(
                    f"invalid JSON ({exc.msg} at column {exc.colno})", source=where, line=lineno
                ) from None
            rules.append(_rule_from_obj(obj, where, lineno))
        return cls(rules, name=name)

    def extend(self, other: RuleSet | Iterable[Rule]) -> RuleSet:
        """Return a new rule set with ``other``'s rules added (ids must stay unique)."""
        extra = list(other)
        name = f"{self.name}+{other.name}" if isinstance(other, RuleSet) else f"{self.name}+custom"
        return RuleSet([*self._rules, *extra], name=name)

    @property
    def checksum(self) -> str:
        """sha256 of the rules' canonical JSON, stable across file formatting."""
        canon = "\n".join(json.dumps(r.to_dict(), sort_keys=True, ensure_ascii=False) for r in self._rules)
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()

    def to_dicts(self) -> list[dict[str, Any]]:
        """Return every rule as a JSON-ready object."""
        return [r.to_dict() for r in self._rules]

    def __iter__(self) -> Any:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __getitem__(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSet) and self._rules == other._rules

    def __hash__(self) -> int:
        return hash(self._rules.__len__()) ^ hash(self.checksum)

    def __repr__(self) -> str:
        return f"RuleSet(name={self.name!r}, rules={len(self._rules)})"


def load_rules(
    path: str | PathLike[str] | None = None,
    *,
    extra: str | PathLike[str] | RuleSet | Iterable[Mapping[str, Any]] | None = None,
) -> RuleSet:
    """Load a rule set: the shipped rules, a file of your own, plus optional extra rules.

    Parameters
    ----------
    path : str or path-like, optional
        A rules file to use instead of the shipped rules.
    extra : path, RuleSet or iterable of dict, optional
        Rules added to the set (a file, a rule set, or JSON-like objects).

    Returns
    -------
    RuleSet

    Examples
    --------
    >>> rules = load_rules(extra=[{"id": "x.demo", "dimension": "scope", "pole": "sales",
    ...                            "weight": 1, "pattern": "till"}])
    >>> "x.demo" in rules
    True
    """
    if path is not None and not isinstance(path, str | PathLike):
        raise InputTypeError(f"path must be a str or path-like, got {type(path).__name__}")
    base = RuleSet.default() if path is None else RuleSet.from_file(path)
    if extra is None:
        return base
    if isinstance(extra, RuleSet):
        return base.extend(extra)
    if isinstance(extra, str | PathLike):
        return base.extend(RuleSet.from_file(extra))
    if isinstance(extra, Mapping):
        raise InputTypeError("extra takes an iterable of rule objects, got a single mapping")
    return base.extend(RuleSet.from_dicts(extra, name="extra"))
