"""A TF-IDF vocabulary compiled to integer codes, so that a document's row is built with NumPy.

The reference computation (:func:`mktsales.features.text_terms` then
:func:`mktsales.features.tfidf_row`) builds every unigram and bigram of a posting as a string and
looks each one up in the vocabulary: several hundred string joins, hashes and dictionary lookups
per posting. :class:`TermIndex` gives every word that occurs in a vocabulary term an integer id,
maps a document's words to ids with one dictionary lookup each (memoised, stemming included), and
then finds unigram features by array indexing and bigram features in a hash table of the codes
``first * n + second``, for a whole batch of documents at once. The rows it returns hold the same
features and values as the reference (tested), each in ascending feature order.

Only word 1-grams and 1-2-grams are compiled; :meth:`TermIndex.build` returns None for other
n-gram ranges and the scorer keeps the reference path for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from mktsales.features import stem

__all__ = ["TermIndex"]

_HEAD_TAG = "^"
#: Id of a word whose form no vocabulary term uses.
_UNKNOWN = -1
#: Returned by the memo for a word not seen yet.
_UNSEEN = -2
#: Fibonacci hashing: the top bits of code * 2**64 / golden ratio (wrapping) index the table.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: Hash table of bigram codes: keys (-1 for an empty slot), features, log2 of the size.
_HashTable = tuple[np.ndarray, np.ndarray, int]


def _slots(codes: np.ndarray, bits: int) -> np.ndarray:
    """Home slots of non-negative int64 codes in a table of 2**bits slots."""
    return ((codes.astype(np.uint64) * _GOLDEN) >> np.uint64(64 - bits)).astype(np.int64)


#: The memo of word ids stops growing at this size (an endless stream of new words cannot grow it).
_MAX_MEMO = 200_000


class TermIndex:
    """Integer codes for the unigram and bigram terms of a fitted TF-IDF vocabulary.

    Use :meth:`build`; the constructor expects an already checked n-gram range.

    Parameters
    ----------
    terms : sequence of str
        The vocabulary in feature order (``vocabulary[j]`` is feature ``j``).
    idf : numpy.ndarray
        Inverse document frequency of every feature.
    stemmed : bool
        Whether words are stemmed before they form terms.
    bigrams : bool
        Whether word bigrams are features (n-gram range (1, 2)) or only unigrams ((1, 1)).
    head : bool
        Whether head words also form ``^``-tagged unigram and bigram features.
    known_forms : frozenset of str, optional
        Word forms that are no feature but count as known words (the function words of a model
        trained without their n-grams).
    short_words : int, optional
        For a model that drops the function-word n-grams of short texts only: a sequence of at most
        this many words loses its features made only of ``known_forms`` (head features included).
    """

    def __init__(
        self,
        terms: Sequence[str],
        idf: np.ndarray,
        *,
        stemmed: bool,
        bigrams: bool,
        head: bool,
        known_forms: frozenset[str] = frozenset(),
        short_words: int | None = None,
    ) -> None:
        self.idf = idf
        self.short_words = short_words
        self.stemmed = stemmed
        self.bigrams = bigrams
        self.head = head
        word_ids: dict[str, int] = {}
        tables: dict[tuple[bool, int], list[tuple[tuple[int, ...], int]]] = {}
        #: Per feature: whether it is made only of known_forms (dropped from short sequences; only
        #: filled in when short_words is set).
        self._function_only = np.zeros(len(terms), dtype=bool)
        for j, term in enumerate(terms):
            tagged = term.startswith(_HEAD_TAG)
            words = (term[1:] if tagged else term).split(" ")
            if short_words is not None:
                self._function_only[j] = known_forms.issuperset(words)
            ids = tuple(word_ids.setdefault(w, len(word_ids)) for w in words)
            tables.setdefault((tagged, len(ids)), []).append((ids, j))
        for form in sorted(known_forms):
            word_ids.setdefault(form, len(word_ids))
        n = max(len(word_ids), 1)
        self._n = n
        self._word_ids = word_ids
        self._unigrams = {tag: self._unigram_table(tables.get((tag, 1), []), n) for tag in (False, True)}
        self._bigrams = {tag: self._bigram_table(tables.get((tag, 2), []), n) for tag in (False, True)}
        #: Per word id: whether the word counts as known (a unigram feature, or one of known_forms).
        self._known = self._unigrams[False] >= 0
        self._known[[word_ids[f] for f in known_forms]] = True
        self._memo: dict[str, int] = {}

    @classmethod
    def build(
        cls,
        terms: Sequence[str],
        idf: np.ndarray,
        *,
        ngram_range: tuple[int, int],
        stemmed: bool,
        head: bool,
        known_forms: frozenset[str] = frozenset(),
        short_words: int | None = None,
    ) -> TermIndex | None:
        """Compile a vocabulary, or return None when its n-gram range is not (1, 1) or (1, 2).

        Parameters
        ----------
        terms : sequence of str
            The vocabulary in feature order.
        idf : numpy.ndarray
            Inverse document frequency of every feature.
        ngram_range : tuple of int
            The model's word n-gram range.
        stemmed : bool
            Whether words are stemmed.
        head : bool
            Whether the model has ``^``-tagged head features.
        known_forms : frozenset of str, optional
            Word forms that count as known without being features.
        short_words : int, optional
            Sequences of at most this many words lose the features made only of ``known_forms``.

        Returns
        -------
        TermIndex or None
        """
        if tuple(ngram_range) not in ((1, 1), (1, 2)):
            return None
        return cls(
            terms,
            idf,
            stemmed=stemmed,
            bigrams=ngram_range[1] == 2,
            head=head,
            known_forms=known_forms,
            short_words=short_words,
        )

    @staticmethod
    def _unigram_table(entries: list[tuple[tuple[int, ...], int]], n: int) -> np.ndarray:
        table = np.full(n, -1, dtype=np.int64)
        for (w,), j in entries:
            table[w] = j
        return table

    @staticmethod
    def _bigram_table(entries: list[tuple[tuple[int, ...], int]], n: int) -> _HashTable:
        """An open-addressing hash table (linear probing, at most a quarter full) from bigram code
        ``first * n + second`` to feature: looking up a batch's pairs takes one or two vectorised
        probes, where a binary search over the sorted codes took 14 dependent steps and most of the
        time of building the rows (measured)."""
        bits = max(3, (4 * len(entries)).bit_length())
        size = 1 << bits
        keys = np.full(size, -1, dtype=np.int64)
        values = np.zeros(size, dtype=np.int64)
        codes = np.array([a * n + b for (a, b), _ in entries], dtype=np.int64)
        for code, slot, (_, j) in zip(codes.tolist(), _slots(codes, bits).tolist(), entries, strict=True):
            while keys[slot] != -1:
                slot = (slot + 1) & (size - 1)
            keys[slot] = code
            values[slot] = j
        return keys, values, bits

    def word_ids(self, words: list[str]) -> np.ndarray:
        """Map words to ids (``-1`` for a word whose form no term uses).

        Parameters
        ----------
        words : list of str
            Lower-cased word tokens.

        Returns
        -------
        numpy.ndarray
            One int64 id per word.
        """
        ids = np.fromiter(map(self._memo.get, words, itertools.repeat(_UNSEEN)), dtype=np.int64, count=len(words))
        unseen = np.flatnonzero(ids == _UNSEEN)
        if len(unseen):
            for i in unseen.tolist():
                ids[i] = self._learn(words[i])
        return ids

    def _learn(self, word: str) -> int:
        form = stem(word) if self.stemmed else word
        wid = self._word_ids.get(form, _UNKNOWN)
        if len(self._memo) < _MAX_MEMO:
            self._memo[word] = wid
        return wid

    def _bigram_features(self, first: np.ndarray, second: np.ndarray, tagged: bool) -> tuple[np.ndarray, np.ndarray]:
        """Features of the bigrams ``(first[i], second[i])``, and a mask of the pairs found."""
        keys, values, bits = self._bigrams[tagged]
        codes = first * self._n + second
        features = np.full(len(codes), -1, dtype=np.int64)
        pending = np.arange(len(codes))
        slot = _slots(codes, bits)
        while len(pending):
            at = keys[slot]
            hit = at == codes
            features[pending[hit]] = values[slot[hit]]
            probe = (at != -1) & ~hit  # the slot holds another code: try the next one
            pending, codes, slot = pending[probe], codes[probe], (slot[probe] + 1) & ((1 << bits) - 1)
        found = features >= 0
        return features[found], found

    def rows(
        self, ids: np.ndarray, lengths: np.ndarray, heads: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF rows of several word sequences at once: sublinear tf, idf, l2 norm.

        Every step works on the whole batch, so the per-call cost of NumPy is paid once per batch,
        not once per text; each row's values are summed in the same order whatever the batch, so a
        text gets bit-identical values alone or among others.

        Parameters
        ----------
        ids : numpy.ndarray
            Word ids (from :meth:`word_ids`) of all sequences, one after the other.
        lengths : numpy.ndarray
            Number of words of each sequence.
        heads : numpy.ndarray
            How many of each sequence's first words form its head (used with head features).

        Returns
        -------
        rows, features, values : numpy.ndarray
            One entry per non-zero cell, sorted by row then feature.
        known : numpy.ndarray
            Per sequence, how many of its words are unigram features or known forms.
        """
        n_rows = len(lengths)
        row = np.repeat(np.arange(n_rows), lengths)
        valid = ids >= 0
        uni = self._unigrams[False][ids[valid]]
        uni_row = row[valid]
        hit = uni >= 0
        feature_parts = [uni[hit]]
        row_parts = [uni_row[hit]]
        known = np.bincount(uni_row[self._known[ids[valid]]], minlength=n_rows)
        # Word pairs inside one sequence: bigram features of the text (n-gram range (1, 2)) and of
        # the head (head terms are unigrams and bigrams whatever the range, as in text_terms).
        pairs = valid[:-1] & valid[1:] & (row[:-1] == row[1:]) if len(ids) > 1 else None
        if pairs is not None and self.bigrams:
            features, found = self._bigram_features(ids[:-1][pairs], ids[1:][pairs], False)
            feature_parts.append(features)
            row_parts.append(row[:-1][pairs][found])
        if self.head and heads.any():
            starts = np.cumsum(lengths) - lengths
            in_head = (np.arange(len(ids)) - starts[row]) < heads[row]
            tagged = valid & in_head
            head_uni = self._unigrams[True][ids[tagged]]
            hit = head_uni >= 0
            feature_parts.append(head_uni[hit])
            row_parts.append(row[tagged][hit])
            if pairs is not None:
                head_pairs = pairs & in_head[1:]
                features, found = self._bigram_features(ids[:-1][head_pairs], ids[1:][head_pairs], True)
                feature_parts.append(features)
                row_parts.append(row[:-1][head_pairs][found])
        if self.short_words is not None:
            # Short sequences (titles, single tasks) lose the features made only of function words.
            short = lengths <= self.short_words
            row_all, feature_all = np.concatenate(row_parts), np.concatenate(feature_parts)
            keep = ~(short[row_all] & self._function_only[feature_all])
            row_parts, feature_parts = [row_all[keep]], [feature_all[keep]]
        n_features = len(self.idf)
        # One sort of (row, feature) keys gives each row's features in order and their counts.
        # 32-bit keys sort about twice as fast as 64-bit ones; they are used when they fit.
        dtype = np.int32 if n_rows * n_features < 2**31 else np.int64
        keys = np.concatenate(row_parts).astype(dtype)
        np.multiply(keys, n_features, out=keys)
        np.add(keys, np.concatenate(feature_parts).astype(dtype), out=keys)
        keys.sort()
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, dtype=np.int64)
        counts = np.diff(np.r_[starts, len(keys)])
        rows, features = np.divmod(keys[starts].astype(np.int64), n_features)
        values = (np.log(counts) + 1.0) * self.idf[features]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
        if len(values):
            values /= norms[rows]
        return rows, features, values, known
