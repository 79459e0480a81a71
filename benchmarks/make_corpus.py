r"""A synthetic news dump of N articles with planted duplicate families and their ground truth.

Text source: the reStructuredText sources of the Python documentation shipped by
Debian's ``python3.11-doc`` package (``/usr/share/doc/python3.11/html/_sources``;
``apt-get install python3.11-doc``), about 1.5 million words of real English prose
in ~500 documents; or any folder of ``.txt`` files (``--source DIR``). Directives,
code, tables and headings are dropped; sentences of 6-45 words that are mostly words
are kept, grouped by the document they come from.

Each *story* is built, deterministically from ``(seed, story number)``:

* a topic: one source document; about half its sentences come from it (each at
  most once), the rest from anywhere, until it reaches its length (about 400
  words, normal with sd 80, at least 60);
* its own named entities and numbers: eight invented names and four numbers,
  substituted for capitalised and long words (about one word in ten), the way news
  stories differ from each other by who, where and how many;
* a subject (one of ``--subjects``, by default one per 20 articles): a subject gives
  80% of the vocabulary its own form (the word with a syllable appended, chosen per
  subject and word), the way sport, finance and weather stories use different words;
  one source alone has a narrower vocabulary than news;
* paragraphs of 2-5 sentences.

A fraction of the stories (``--family-rate``) get variants, each made of one to three
of these changes: *rewrite* (8% of the content words swapped for other words of the
vocabulary with the same first letter and about the same length, a stand-in for
synonyms), *reorder* (two sentences swapped, or a paragraph moved), *truncate*
(the first 55-90% of the sentences kept), *boilerplate* (site furniture added before
and after), *reparagraph* (paragraph breaks redrawn). Articles are written in a
shuffled order.

A story with variants has 1 + Poisson(2) of them (at most 10); ``--family-size N`` gives
every such family N members, the story included, and ``--family-sizes`` draws them
(``A-B`` uniformly, ``zipf`` or ``zipf:A-B`` with P(k) ~ k**-2); only the last story's
family may then be cut short, to make exactly N articles. ``--exact-share X`` makes that
share of each family's variants exact copies (re-crawls, re-posts): byte for byte the text
of the story, or of another member of the family that is no copy.

    python benchmarks/make_corpus.py 10000 --out corpus.jsonl.gz   # + corpus.truth.jsonl.gz
    python benchmarks/make_corpus.py 100000 --out f.jsonl.gz --family-rate 1 --family-size 1000 \
        --exact-share 0.3

The truth file has one ``{"id", "family", "changes"}`` a line: articles of one family
are variants of one story; a story without variants is a family of one. An exact copy has
``"changes": ["exact"]`` and ``"copy_of"``, the id of the member whose text it repeats.

Speed: 100,000 articles in 29 s in one process, 18 s with two (it took 74 s): each story is made
once for its whole family (it was made again for every variant), the source sentences'
words are analysed once, the per-word random draws are made in Python from the generator's
raw output (the same numbers as numpy's calls, at a quarter of their cost), and the gzip
compression (level 3; it was 9) runs in a thread of its own. ``--workers`` (default: all
cores) splits the stories between processes. The corpus is the same as before, for the same
seed, line for line, whatever the workers.

How alike unrelated stories are decides how many candidate pairs LSH proposes. With
these defaults ``dedup``'s LSH proposes 4,410 pairs for 2,000 articles (0.22% of all
pairs, 1,746 of them true; pair precision 0.999, recall 1.000) and 33,183 for 10,000
(3.3 per article; precision 0.996); the real WMT dev set: 21,126 for 2,780 (0.55%,
16,044 true). Without subjects (``--subjects 1``) it is 60,309 for 2,000 (3%).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import re
import sys
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dedup.text.paragraphs import split_sentences  # noqa: E402

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html/_sources")
TOPIC_SHARE = 0.5  # of a story's sentences taken from its topic document
ZIPF_EXPONENT = 2.0  # of --family-sizes zipf
CHUNK = 500  # articles handed to the writer thread at a time
WORKER_BATCH = 200  # texts a worker process sends at a time
PARALLEL_FROM = 5_000  # articles: fewer are made in this process (a worker takes ~1 s to start)
GZIP_LEVEL = 3  # of the corpus (when .gz) and the truth: as dedup writes; 9 took 23 s a 100k
SYLLABLES = [
    "ka",
    "ra",
    "lo",
    "vin",
    "tes",
    "mar",
    "du",
    "sel",
    "ber",
    "an",
    "to",
    "ri",
    "fen",
    "gal",
    "osk",
    "ven",
    "tar",
    "mi",
    "lu",
    "cor",
    "pha",
    "nek",
    "dra",
    "vol",
    "zen",
    "ush",
    "tam",
    "bel",
    "qui",
    "ros",
    "ha",
    "jin",
    "ot",
    "wel",
    "fra",
    "gor",
    "lis",
    "den",
]
FURNITURE = [
    "Share this article",
    "Follow us on social media",
    "Leave a Comment",
    "Source link",
    "Read more: the latest stories from our newsroom",
    "Subscribe to our newsletter for daily updates",
    "Advertisement",
]
_ROLE = re.compile(r":[\w:+-]+:`(?:[^`<]*<)?([^`>]*)>?`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
_MARKUP = re.compile(r"``|\*\*|(?<!\w)\*(?=\w)|(?<=\w)\*(?!\w)|`_?|\|")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
STRIP = ".,;:!?()\"'"  # punctuation around a word


# A source sentence as story() uses it: its word count, its words (runs of words that story()
# never changes joined into one string), and the slots story() may change: (index in the words,
# text before the word's core, core, text after, entity slot, subject form's key or None).
Slot = tuple[int, str, str, str, bool, bytes | None]
Analysed = tuple[int, list[str], list[Slot]]


@dataclass(frozen=True)
class Source:
    """Sentences of real text grouped by document, and the vocabulary of their content words."""

    name: str
    documents: list[list[str]]
    by_initial: dict[str, list[str]]

    @cached_property
    def _analysed(self) -> dict[tuple[int, int], Analysed]:
        return {}

    def analysed(self, document: int, sentence: int) -> Analysed:
        """A sentence as story() uses it, analysed once: story() reads each source sentence many
        times, and the string tests on its words were most of its cost."""
        key = (document, sentence)
        if (known := self._analysed.get(key)) is None:
            known = self._analysed[key] = _analyse(self.documents[document][sentence])
        return known


def _analyse(sentence: str) -> Analysed:
    """What story() may do to each word of ``sentence``: replace it by an entity (a long or
    capitalised word, not the first), give it its subject form (a lowercase word of 4+ letters),
    either, or nothing."""
    parts: list[str] = []
    slots: list[Slot] = []
    plain: list[str] = []
    words = sentence.split()
    for k, word in enumerate(words):
        core = word.strip(STRIP)
        entity = bool(core) and (len(core) >= 8 or (k > 0 and core[0].isupper()))
        subject = core.encode() if len(core) >= 4 and core.isalpha() and core.islower() else None
        if not entity and subject is None:
            plain.append(word)
            continue
        if plain:
            parts.append(" ".join(plain))
            plain = []
        at = word.index(core)  # core occurs once: it starts and ends with a character not stripped
        slots.append((len(parts), word[:at], core, word[at + len(core) :], entity, subject))
        parts.append(word)
    if plain:
        parts.append(" ".join(plain))
    return len(words), parts, slots


def _rst_paragraphs(text: str) -> Iterator[str]:
    """The prose paragraphs of a reStructuredText file: no directive, code, table or heading."""
    block: list[str] = []
    skipping_indent = False
    for line in text.splitlines() + [""]:
        stripped = line.strip()
        if not stripped:
            if block:
                yield " ".join(block)
            block = []
            continue
        if line[0].isspace():
            if skipping_indent or not block:
                skipping_indent = True
                continue
        else:
            skipping_indent = False
        if stripped.startswith((".. ", "..\t", ">>>", "+", "|", "=", "-", "*", "#")) or stripped.endswith(
            "::"
        ):
            skipping_indent = stripped.startswith("..") or stripped.endswith("::")
            if block:
                yield " ".join(block)
            block = []
            continue
        block.append(stripped)


def _clean(sentence: str) -> str | None:
    sentence = _LINK.sub(r"\1", _ROLE.sub(r"\1", sentence))
    sentence = " ".join(_MARKUP.sub("", sentence).split())
    words = sentence.split()
    if not 6 <= len(words) <= 45:
        return None
    if sum(bool(_WORD.fullmatch(w.strip(".,;:!?()\"'"))) for w in words) < 0.85 * len(words):
        return None
    return sentence


def load_source(folder: Path | None) -> Source:
    """Read the text source: a folder of ``.txt`` files, or Debian's Python documentation."""
    if folder is None:
        if not PYTHON_DOCS.is_dir():
            raise click.ClickException(
                f"{PYTHON_DOCS}: not found; install it with 'apt-get install python3.11-doc' "
                "or give a folder of .txt files with --source"
            )
        files, name = sorted(PYTHON_DOCS.rglob("*.rst.txt")), "debian:python3.11-doc (_sources/*.rst.txt)"
    else:
        files, name = sorted(folder.rglob("*.txt")), f"folder:{folder}"
    documents = []
    seen: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs = _rst_paragraphs(text) if path.name.endswith(".rst.txt") else text.split("\n\n")
        sentences = []
        for paragraph in paragraphs:
            for raw in split_sentences(" ".join(paragraph.split())):
                sentence = _clean(raw)
                if sentence and sentence not in seen:
                    seen.add(sentence)
                    sentences.append(sentence)
        if len(sentences) >= 5:
            documents.append(sentences)
    if not documents:
        raise click.ClickException(f"{name}: no document with five usable sentences")
    return Source(name, documents, vocabulary(documents))


def vocabulary(documents: list[list[str]]) -> dict[str, list[str]]:
    """The content words of the documents (lowercase, 4+ letters) by first letter, sorted: where
    a rewrite draws the words it swaps in."""
    by_initial: dict[str, set[str]] = {}
    for doc in documents:
        for sentence in doc:
            for word in _WORD.findall(sentence):
                if len(word) >= 4 and word.islower():
                    by_initial.setdefault(word[0], set()).add(word)
    return {k: sorted(v) for k, v in by_initial.items()}


class _Draws:
    """``rng.random()`` and ``rng.integers(...)`` of a PCG64 generator one number at a time, the
    same numbers for a quarter of the cost of a numpy call (0.6-1 us each; a story draws ~200,
    one per word). They are made in Python from the generator's raw 64-bit outputs the way numpy
    2 makes them: a double from the top 53 bits; an integer below k < 2**32 by Lemire's method on
    32-bit halves (the other half kept for the next integer, as numpy keeps it in the generator's
    state). ``done()`` leaves the generator where numpy's own calls would have (see
    ``tests/test_make_corpus.py``, which checks both against numpy)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._bits = rng.bit_generator
        self._start = self._bits.state
        self._half: int | None = self._start["uinteger"] if self._start["has_uint32"] else None
        self._raw: list[int] = []
        self._at = 0
        self._drawn = 0

    def _next(self) -> int:
        if self._at == len(self._raw):
            self._raw = self._bits.random_raw(256).tolist()
            self._drawn += len(self._raw)
            self._at = 0
        self._at += 1
        return self._raw[self._at - 1]

    def random(self) -> float:
        """``rng.random()``."""
        return (self._next() >> 11) * 2.0**-53

    def _uint32(self) -> int:
        if self._half is not None:
            value, self._half = self._half, None
            return value
        value = self._next()
        self._half = value >> 32
        return value & 0xFFFFFFFF

    def integers(self, low: int, high: int | None = None) -> int:
        """``int(rng.integers(low, high))``, or ``int(rng.integers(low))`` (from 0)."""
        if high is None:
            low, high = 0, low
        k = high - low
        if not 1 <= k <= 0xFFFFFFFF:
            raise ValueError(f"integers({low}, {high}): only ranges of 1 to 2**32 - 1 numbers")
        if k == 1:
            return low  # numpy draws nothing either
        m = self._uint32() * k
        if (m & 0xFFFFFFFF) < k:
            threshold = (0x100000000 - k) % k
            while (m & 0xFFFFFFFF) < threshold:
                m = self._uint32() * k
        return low + (m >> 32)

    def below(self, k: int, size: int) -> list[int]:
        """``rng.integers(k, size=size).tolist()``: ``size`` draws of ``integers(k)``, in a loop
        of its own (a rejection, leftover under the threshold, is the same test as there)."""
        if not 1 <= k <= 0xFFFFFFFF:
            raise ValueError(f"integers({k}): only ranges of 1 to 2**32 - 1 numbers")
        if k == 1:
            return [0] * size
        threshold, half, out = (0x100000000 - k) % k, self._half, []
        for _ in range(size):
            while True:
                if half is None:
                    value = self._next()
                    half, value = value >> 32, value & 0xFFFFFFFF
                else:
                    value, half = half, None
                m = value * k
                if (m & 0xFFFFFFFF) >= threshold:
                    break
            out.append(m >> 32)
        self._half = half
        return out

    def done(self) -> None:
        """Move the generator past the numbers drawn here (and no further)."""
        used = self._drawn - (len(self._raw) - self._at)
        self._bits.state = self._start
        self._bits.advance(used)
        state = self._bits.state
        state["has_uint32"], state["uinteger"] = (0, 0) if self._half is None else (1, self._half)
        self._bits.state = state


Rng = np.random.Generator | _Draws


def _name(rng: Rng) -> str:
    # the draws of rng.choice(SYLLABLES, size=k), without its cost (8 us a call)
    drawn = [rng.integers(len(SYLLABLES)) for _ in range(int(rng.integers(2, 4)))]
    return "".join(SYLLABLES[k] for k in drawn).capitalize()


def _in_subject(word: str, key: bytes, salt: int, cut: float) -> str:
    """The form ``word`` takes in a subject: itself, or (for a share of the vocabulary, chosen per
    subject and word) the word with a syllable of the subject appended. ``key`` is the word's
    UTF-8, ``salt`` the CRC-32 of ``"<subject>:"``, ``cut`` the share times 10,000."""
    h = zlib.crc32(key, salt)  # = crc32(f"{subject}:{word}")
    if h % 10_000 >= cut:
        return word
    return word + SYLLABLES[(h >> 16) % len(SYLLABLES)]


def story(
    source: Source, seed: int, number: int, words: int = 400, subjects: int = 500, subject_share: float = 0.8
) -> list[list[str]]:
    """The paragraphs (lists of sentences) of story ``number``."""
    rng = np.random.default_rng([seed, number, 0])
    draws = _Draws(rng)
    subject = draws.integers(subjects)
    topic_number = draws.integers(len(source.documents))
    topic = source.documents[topic_number]
    entities = [_name(draws) for _ in range(8)] + [str(draws.integers(2, 5000)) for _ in range(4)]
    draws.done()
    target = max(60, int(rng.normal(words, words / 5)))
    sentences: list[str] = []
    total = 0
    own = iter(rng.permutation(len(topic)).tolist())  # the topic's sentences, each at most once
    salt, cut = zlib.crc32(f"{subject}:".encode()), subject_share * 10_000
    draws = _Draws(rng)  # the generator is not used past here: no done()
    random, integers, crc32 = draws.random, draws.integers, zlib.crc32
    while total < target:
        k = next(own, None) if random() < TOPIC_SHARE else None
        if k is not None:
            count, parts, slots = source.analysed(topic_number, k)
        else:
            d = integers(len(source.documents))
            count, parts, slots = source.analysed(d, integers(len(source.documents[d])))
        out = parts.copy()
        for i, before, core, after, entity, key in slots:
            if entity and random() < 0.35:
                out[i] = before + entities[integers(len(entities))] + after
            elif key is not None:  # _in_subject(core, key, salt, cut), inline
                h = crc32(key, salt)
                if h % 10_000 < cut:
                    out[i] = before + core + SYLLABLES[(h >> 16) % len(SYLLABLES)] + after
        sentences.append(" ".join(out))
        total += count
    return _paragraphs(sentences, draws)


def _paragraphs(sentences: list[str], rng: Rng) -> list[list[str]]:
    paragraphs, at = [], 0
    while at < len(sentences):
        size = int(rng.integers(2, 6))
        paragraphs.append(sentences[at : at + size])
        at += size
    return paragraphs


def variant(
    source: Source, paragraphs: list[list[str]], rng: np.random.Generator
) -> tuple[list[list[str]], list[str]]:
    """A changed copy of a story and the names of the changes made."""
    changes = list(rng.choice(["rewrite", "reorder", "truncate", "boilerplate", "reparagraph"],
                              size=int(rng.integers(1, 4)), replace=False))  # fmt: skip
    paragraphs = [list(p) for p in paragraphs]
    head: list[str] = []
    tail: list[str] = []
    for change in changes:
        if change == "rewrite":
            draws = _Draws(rng)
            paragraphs = [[_rewrite(s, source, draws) for s in p] for p in paragraphs]
            draws.done()
        elif change == "reorder" and len(paragraphs) > 1:
            if rng.random() < 0.5:
                p = paragraphs[int(rng.integers(len(paragraphs)))]
                if len(p) > 1:
                    k = int(rng.integers(len(p) - 1))
                    p[k], p[k + 1] = p[k + 1], p[k]
            else:
                moved = paragraphs.pop(int(rng.integers(len(paragraphs))))
                paragraphs.insert(int(rng.integers(len(paragraphs) + 1)), moved)
        elif change == "truncate":
            flat = [s for p in paragraphs for s in p]
            keep = max(2, int(len(flat) * rng.uniform(0.55, 0.9)))
            paragraphs = _paragraphs(flat[:keep], rng)
        elif change == "boilerplate":
            head, tail = _furniture(rng)
        elif change == "reparagraph":
            paragraphs = _paragraphs([s for p in paragraphs for s in p], rng)
    return [[h] for h in head] + paragraphs + [[t] for t in tail], changes


LIGHT_CHANGES = ("swap", "boilerplate", "reparagraph")


def light_variant(
    source: Source, paragraphs: list[list[str]], rng: np.random.Generator
) -> tuple[list[list[str]], list[str]]:
    """A lightly edited copy and the names of its edits, the ones a re-post makes: *swap* (two to
    five content words swapped, as *rewrite* swaps them), *boilerplate* and *reparagraph* (as in
    ``variant``); each with probability one half, at least one. No sentence is dropped or moved."""
    changes = [c for c in LIGHT_CHANGES if rng.random() < 0.5] or [LIGHT_CHANGES[int(rng.integers(3))]]
    paragraphs = [list(p) for p in paragraphs]
    head: list[str] = []
    tail: list[str] = []
    for change in changes:
        if change == "swap":
            paragraphs = _swap_words(paragraphs, source, rng, int(rng.integers(2, 6)))
        elif change == "boilerplate":
            head, tail = _furniture(rng)
        else:
            paragraphs = _paragraphs([s for p in paragraphs for s in p], rng)
    return [[h] for h in head] + paragraphs + [[t] for t in tail], changes


def _furniture(rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Site furniture before (0-1 lines) and after (1-2 lines) an article."""
    head = list(rng.choice(FURNITURE, size=int(rng.integers(0, 2)), replace=False))
    tail = list(rng.choice(FURNITURE, size=int(rng.integers(1, 3)), replace=False))
    return head, tail


def _swap_words(
    paragraphs: list[list[str]], source: Source, rng: np.random.Generator, count: int
) -> list[list[str]]:
    """``count`` of the content words (lowercase, 4+ letters), picked at random, swapped."""
    words = [[s.split() for s in p] for p in paragraphs]
    slots = [
        (i, j, k)
        for i, p in enumerate(words)
        for j, sentence in enumerate(p)
        for k, word in enumerate(sentence)
        if len(core := word.strip(STRIP)) >= 4 and core.islower()
    ]
    for n in rng.permutation(len(slots))[:count].tolist():
        i, j, k = slots[n]
        word = words[i][j][k]
        core = word.strip(STRIP)
        if (other := _synonym(core, source, rng)) is not None:
            words[i][j][k] = word.replace(core, other)
    return [[" ".join(sentence) for sentence in p] for p in words]


def _synonym(core: str, source: Source, rng: Rng) -> str | None:
    """A stand-in for a synonym of ``core``: one of 20 words of the vocabulary drawn with its first
    letter, of about its length (None if none of them is)."""
    pool = source.by_initial.get(core[0], [])
    drawn = [pool[k] for k in _below(rng, len(pool), 20)] if pool else []
    near = [w for w in drawn if abs(len(w) - len(core)) <= 1 and w != core]
    return near[rng.integers(len(near))] if near else None


def _below(rng: Rng, k: int, size: int) -> list[int]:
    """``size`` draws of ``rng.integers(k)``, at once."""
    return rng.integers(k, size=size).tolist() if isinstance(rng, np.random.Generator) else rng.below(k, size)


def _rewrite(sentence: str, source: Source, rng: Rng) -> str:
    out = []
    for word in sentence.split():
        core = word.strip(STRIP)
        swap = len(core) >= 4 and core.islower() and rng.random() < 0.08
        if swap and (other := _synonym(core, source, rng)) is not None:
            word = word.replace(core, other)
        out.append(word)
    return " ".join(out)


def plan(stories: int, family_rate: float, seed: int) -> list[tuple[int, int]]:
    """``(story, copy)`` of every article, shuffled; copy 0 is the story itself."""
    rng = np.random.default_rng([seed, 1])
    copies = np.where(rng.random(stories) < family_rate, 1 + np.minimum(rng.poisson(2.0, stories), 9), 0)
    items = [(s, c) for s in range(stories) for c in range(int(copies[s]) + 1)]
    order = rng.permutation(len(items))
    return [items[k] for k in order]


@dataclass(frozen=True)
class FamilySizes:
    """How many members (the story included) a story with variants gets: from ``low`` to ``high``,
    uniformly, or with ``zipf`` P(k) proportional to k**-2, many small families and a few huge."""

    low: int
    high: int
    zipf: bool = False

    def __post_init__(self) -> None:
        if not 2 <= self.low <= self.high:
            raise ValueError(
                f"family sizes {self.low}-{self.high}: a family is the story and at least one "
                "variant, so 2 <= low <= high"
            )

    @classmethod
    def parse(cls, spec: str) -> FamilySizes:
        """``"N"`` (every family N members), ``"A-B"`` (uniform), ``"zipf"`` (2-2000) or ``"zipf:A-B"``."""
        text = spec.strip().lower()
        zipf = text.startswith("zipf")
        if zipf:
            text = text.removeprefix("zipf").removeprefix(":") or "2-2000"
        low, dash, high = text.partition("-")
        if not (low.isdigit() and (high.isdigit() or not dash)):
            raise ValueError(f"family sizes {spec!r}: expected N, A-B, zipf or zipf:A-B")
        return cls(int(low), int(high or low), zipf)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` family sizes."""
        if self.zipf:
            sizes = np.arange(self.low, self.high + 1)
            weights = sizes.astype(float) ** -ZIPF_EXPONENT
            return rng.choice(sizes, size=count, p=weights / weights.sum())
        return rng.integers(self.low, self.high + 1, size=count)


def sized_plan(n: int, family_rate: float, seed: int, sizes: FamilySizes) -> list[tuple[int, int]]:
    """``(story, copy)`` of exactly ``n`` articles, shuffled, where each story that gets variants
    (``family_rate`` of them) has a family of ``sizes`` members; only the last story's family is
    cut short, to make ``n``."""
    rng = np.random.default_rng([seed, 1, 1])
    members = np.where(rng.random(n) < family_rate, sizes.draw(rng, n), 1)  # n stories are enough
    ends = np.cumsum(members)
    stories = int(np.searchsorted(ends, n)) + 1  # the first story at whose end there are n articles
    members = members[:stories]
    members[-1] -= int(ends[stories - 1]) - n
    items = [(s, c) for s in range(stories) for c in range(int(members[s]))]
    return [items[k] for k in rng.permutation(n)]


def articles_for(
    n: int, family_rate: float, seed: int, sizes: FamilySizes | None = None
) -> list[tuple[int, int]]:
    """A plan of exactly ``n`` articles. Without ``sizes`` a story with variants has 2-11 members
    (1 + Poisson(2), at most 10 copies) and stories are added until there are enough, then the
    shuffled plan is cut; with ``sizes``, see ``sized_plan``."""
    if sizes is not None:
        return sized_plan(n, family_rate, seed, sizes)
    stories = max(1, int(n / (1 + family_rate * 3)))
    items = plan(stories, family_rate, seed)
    while len(items) < n:
        stories = int(stories * 1.1) + 1
        items = plan(stories, family_rate, seed)
    return items[:n]


def exact_copies(items: list[tuple[int, int]], share: float, seed: int) -> dict[tuple[int, int], int]:
    """The members that are exact copies (re-crawls, re-posts) and the copy each repeats: in each
    family, ``share`` of the variants (rounded), each a copy of the story itself (one in two) or of
    one of the family's other members that is no copy (a re-post of a rewrite)."""
    if share <= 0:
        return {}
    variants: dict[int, list[int]] = {}
    for s, c in items:
        if c:
            variants.setdefault(s, []).append(c)
    copies: dict[tuple[int, int], int] = {}
    for s, members in sorted(variants.items()):
        members.sort()
        rng = np.random.default_rng([seed, s, 0, 1])  # a stream no story or variant uses
        count = int(share * len(members) + 0.5)
        picked = rng.permutation(len(members))[:count]
        exact = {members[k] for k in picked.tolist()}
        others = [c for c in members if c not in exact]
        for c in sorted(exact):
            of_story = not others or rng.random() < 0.5
            copies[(s, c)] = 0 if of_story else others[int(rng.integers(len(others)))]
    return copies


class _Texts:
    """The text and changes of each member ``(story, copy)``, each made once: a story's paragraphs
    are kept while members of its family are still to come (rather than made again for each),
    a member's text while exact copies of it are."""

    def __init__(
        self, source: Source, seed: int, words: int, subjects: int, subject_share: float,
        keys: list[tuple[int, int]],
    ) -> None:  # fmt: skip
        self.source, self.seed, self.words = source, seed, words
        self.subjects, self.subject_share = subjects, subject_share
        self.uses = Counter(keys)  # articles still to come with each member's text
        self.story_uses = Counter(s for s, _ in self.uses)  # members of each story still to make
        self.stories: dict[int, list[list[str]]] = {}
        self.texts: dict[tuple[int, int], tuple[str, list[str]]] = {}

    def get(self, key: tuple[int, int]) -> tuple[str, list[str]]:
        """The text of member ``key`` and the changes that made it from its story."""
        made = self.texts.pop(key, None) or self._make(*key)
        self.uses[key] -= 1
        if self.uses[key]:
            self.texts[key] = made
        else:
            del self.uses[key]
        return made

    def _make(self, s: int, c: int) -> tuple[str, list[str]]:
        paragraphs = self.stories.pop(s, None)
        if paragraphs is None:
            paragraphs = story(self.source, self.seed, s, self.words, self.subjects, self.subject_share)
        self.story_uses[s] -= 1
        if self.story_uses[s]:
            self.stories[s] = paragraphs
        else:
            del self.story_uses[s]
        changes: list[str] = []
        if c:
            paragraphs, changes = variant(self.source, paragraphs, np.random.default_rng([self.seed, s, c]))
        return "\n\n".join(" ".join(p) for p in paragraphs), changes


Settings = tuple[Source, int, int, int, float]  # source, seed, words, subjects, subject_share


def _texts(settings: Settings, keys: list[tuple[int, int]]) -> Iterator[tuple[str, list[str]]]:
    """The text and changes of each member of ``keys``, in order."""
    texts = _Texts(*settings, keys)
    for key in keys:
        yield texts.get(key)


def _work(conn: Connection, settings: Settings, keys: list[tuple[int, int]]) -> None:
    """A worker process: sends the texts of ``keys`` in order, in batches (or the exception that
    stopped it)."""
    try:
        batch = []
        for made in _texts(settings, keys):
            batch.append(made)
            if len(batch) == WORKER_BATCH:
                conn.send(batch)
                batch = []
        conn.send(batch)
    except Exception as err:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send(err)
    finally:
        conn.close()


def _texts_in_processes(
    settings: Settings, keys: list[tuple[int, int]], workers: int
) -> Iterator[tuple[str, list[str]]]:
    """``_texts`` made by ``workers`` processes, story ``s`` by worker ``s % workers`` (so that a
    story is made once for its family), taken back in order."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that may run threads
    pipes, processes = [], []
    try:
        for w in range(workers):
            mine, theirs = context.Pipe(duplex=False)
            share = [key for key in keys if key[0] % workers == w]
            process = context.Process(target=_work, args=(theirs, settings, share), daemon=True)
            process.start()
            theirs.close()
            pipes.append(mine)
            processes.append(process)
        ready: list[deque[tuple[str, list[str]]]] = [deque() for _ in range(workers)]
        for s, _ in keys:
            w = s % workers
            if not ready[w]:
                got = pipes[w].recv()
                if isinstance(got, Exception):
                    raise got
                ready[w].extend(got)
            yield ready[w].popleft()
    finally:
        for process in processes:
            process.kill()
            process.join()
        for pipe in pipes:
            pipe.close()


def make(
    source: Source,
    n: int,
    *,
    seed: int = 0,
    family_rate: float = 0.2,
    words: int = 400,
    subjects: int | None = None,
    subject_share: float = 0.8,
    family_sizes: FamilySizes | None = None,
    exact_share: float = 0.0,
    workers: int = 1,
) -> Iterator[dict]:
    """``{"id", "text", "family", "changes"}`` for each of ``n`` articles, in corpus order; an
    exact copy has ``"changes": ["exact"]`` and ``"copy_of"``, the id of the member it repeats.

    ``subjects`` defaults to one per 20 articles (at least 50): a bigger dump covers more subjects.
    With ``workers`` > 1 (and ``n`` of at least ``PARALLEL_FROM``) the texts are made in that many
    processes, the stories split between them by number: the same texts, in about half the time
    on two free cores.
    """
    if not 0 <= exact_share <= 1:
        raise ValueError(f"exact_share {exact_share}: a share, from 0 to 1")
    subjects = subjects or max(50, n // 20)
    items = articles_for(n, family_rate, seed, family_sizes)
    copies = exact_copies(items, exact_share, seed)
    keys = [(s, copies.get((s, c), c)) for s, c in items]  # whose text each article has
    settings = (source, seed, words, subjects, subject_share)
    alone = workers <= 1 or n < PARALLEL_FROM
    made = _texts(settings, keys) if alone else _texts_in_processes(settings, keys, workers)
    for (s, c), key, (text, changes) in zip(items, keys, made, strict=True):
        article = {"id": f"s{s:07d}-{c}", "text": text, "family": f"s{s:07d}", "changes": changes}
        if key[1] != c:
            article["changes"], article["copy_of"] = ["exact"], f"s{s:07d}-{key[1]}"
        yield article


@contextmanager
def _in_background(*files: IO[str]) -> Iterator[Callable[..., None]]:
    """``write(chunk, ...)``: writes one chunk to each file, in order, in a thread of its own, so
    that gzip's compression (which lets go of the GIL) runs on another core than the generator."""
    pending: deque[Future[None]] = deque()

    def write_all(*chunks: str) -> None:
        for f, chunk in zip(files, chunks, strict=True):
            f.write(chunk)

    with ThreadPoolExecutor(max_workers=1) as pool:

        def write(*chunks: str) -> None:
            pending.append(pool.submit(write_all, *chunks))
            if len(pending) > 8:  # a bounded queue: the generator waits for a slow disk
                pending.popleft().result()

        yield write
        while pending:
            pending.popleft().result()


def _family_sizes(ctx: click.Context, param: click.Parameter, value: str | None) -> FamilySizes | None:
    if value is None:
        return None
    try:
        return FamilySizes.parse(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


@click.command()
@click.argument("n", type=click.IntRange(min=1))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Corpus file (.jsonl or .jsonl.gz); the truth goes beside it as <name>.truth.jsonl.gz.",
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--family-rate",
    type=click.FloatRange(0, 1),
    default=0.2,
    show_default=True,
    help="Share of stories that get variants.",
)
@click.option(
    "--family-size",
    type=click.IntRange(min=2),
    default=None,
    help="Members of every family, the story included (default: 1 + Poisson(2), at most 11).",
)
@click.option(
    "--family-sizes",
    "sizes",
    callback=_family_sizes,
    default=None,
    help="Members of each family, drawn: N, A-B (uniform), zipf (2-2000, P(k) ~ k^-2) or zipf:A-B.",
)
@click.option(
    "--exact-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of a family's variants that are exact copies of the story or of another member.",
)
@click.option("--words", default=400, show_default=True, help="Mean length of a story in words.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="all cores",
    help="Processes that make the texts (the corpus does not depend on it).",
)
@click.option(
    "--subjects", type=click.IntRange(min=1), default=None, help="Subjects (default: N/20, at least 50)."
)
@click.option(
    "--subject-share", default=0.8, show_default=True, help="Share of the vocabulary a subject changes."
)
@click.option(
    "--source",
    "source_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of .txt files to take sentences from (default: Debian's Python docs).",
)
def main(
    n: int,
    out: Path,
    seed: int,
    family_rate: float,
    family_size: int | None,
    sizes: FamilySizes | None,
    exact_share: float,
    words: int,
    workers: int,
    subjects: int | None,
    subject_share: float,
    source_dir: Path | None,
) -> None:
    """Write N synthetic articles with planted duplicate families, and their ground truth."""
    if family_size is not None:
        if sizes is not None:
            raise click.UsageError("--family-size and --family-sizes: give one of them")
        sizes = FamilySizes(family_size, family_size)
    source = load_source(source_dir)
    name = out.name.removesuffix(".gz").removesuffix(".jsonl")
    truth = out.with_name(f"{name}.truth.jsonl.gz")
    opener = partial(gzip.open, compresslevel=GZIP_LEVEL) if out.name.endswith(".gz") else open
    tmp_out, tmp_truth = out.with_name(out.name + ".tmp"), truth.with_name(truth.name + ".tmp")
    with (
        opener(tmp_out, "wt", encoding="utf-8") as f,
        gzip.open(tmp_truth, "wt", encoding="utf-8", compresslevel=GZIP_LEVEL) as t,
        _in_background(f, t) as write,
    ):
        made = make(source, n, seed=seed, family_rate=family_rate, words=words, subjects=subjects,
                    subject_share=subject_share, family_sizes=sizes, exact_share=exact_share,
                    workers=workers)  # fmt: skip
        lines: list[str] = []
        rows: list[str] = []
        for article in made:
            text = {"id": article["id"], "text": article["text"]}
            lines.append(json.dumps(text, ensure_ascii=False) + "\n")
            row = {k: article[k] for k in ("id", "family", "changes", "copy_of") if k in article}
            rows.append(json.dumps(row) + "\n")
            if len(lines) == CHUNK:
                write("".join(lines), "".join(rows))
                lines, rows = [], []
        write("".join(lines), "".join(rows))
    os.replace(tmp_out, out)
    os.replace(tmp_truth, truth)
    click.echo(f"{n:,} articles from {source.name} ({len(source.documents)} documents) -> {out}, {truth}")


if __name__ == "__main__":
    main()
