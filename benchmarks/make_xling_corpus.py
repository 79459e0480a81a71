r"""A synthetic multilingual news dump of N articles (English, Russian, Ukrainian) with planted
cross-language families, and their ground truth: the data of ``benchmarks/xling_scale.py``.

Text source: the WMT dev sets' sources and their English translations, read in place
(``_data.DATASETS``; nothing is copied): ``wmt-variants-dev-v2`` (WMT23, 116 Russian documents)
and ``-v3`` (WMT21, 100 Russian news documents), whose articles list the WMT segments each
paragraph holds (``seg_ids``), and the Ukrainian documents of ``wmt-variants-dev`` (WMT23, 106),
which do not. Each document is cut into *units* that every one of its members renders:

* v2, v3: a unit is a run of segments that ends where every member's text can be cut: at a
  paragraph's end, or between two sentences of a paragraph that has as many sentences as
  segments. v2: 1,121 units of 1,561 segments; v3: 548 of 972; the source and 8-10 English
  translations (MT systems and human references) each give every unit's text.
* uk: a unit is a sentence, for the English members with as many sentences as the source; a
  document with fewer than two such members is one unit, with all its members (left out if its
  source has over 250 words).

Each *story* is built, deterministically from ``(seed, story number)``:

* its units: a run of 40-80% of the units of one document (its topic; 10 at most), and about as
  many again (10 at most) in runs of one to three units from other documents of the same
  language, put in between;
* its own names and numbers: a capitalised word whose phonetic code
  (:func:`dedup.text.fingerprints.sound_code`) occurs capitalised in a unit's source and in its
  English translation is a name, and every name of the story is replaced, in every language, by a
  name invented for the story (two or three syllables, written in Latin and in Cyrillic letters
  that transliterate back to it; a Russian or Ukrainian case ending kept); every number of three
  digits or more by a number drawn for the story (a year by a year). A source of 322 documents
  names the same few people and places otherwise: the same sound codes and numbers would join
  unrelated stories across languages;
* a subject (one per 20 articles, at least 50), as in ``make_corpus.py``: 80% of the content
  words (lowercase, 4+ letters) take the subject's form, the word with a syllable appended (Latin
  or Cyrillic as the word), so that stories on one topic document differ in wording the way
  stories of different desks do;
* its articles: the source-language article (the units' source text), or English translations
  (system ``j`` of the story: a different MT system or human reference for each, so the wording
  differs as machine translations do), each paragraphed on its own (2-4 units a paragraph), and
  same-language variants of them: ``make_corpus.variant``'s rewrite, reorder, truncate,
  boilerplate (in the article's language) and reparagraph, or exact copies.

Kinds of story (``kind`` in the truth): ``single`` (one article, by far the most: most articles
in a real dump are alone), ``xling`` (the source and 1 + Poisson(1) translations, 6% of the
stories), ``en`` (2 + Poisson(0.7) translations, no source: 3%), ``same`` (the source and
1 + Poisson(0.7) rewrites, no translation: 3%); each family gets Poisson(0.8) variants more (a
fifth of them exact copies); and ``big``: one per 50,000 articles (none below 25,000), 100-500
members, the source, every translation and rewrites of them. 4% of the stories are look-alikes of
an earlier story (``like`` in the truth): the same event (its names, numbers and subject), a third
to a half of its units and others: a different family. Languages of the articles: 60% en, 25% ru,
15% uk (``--languages``), exactly; the families' articles are counted first and the singles make
up the rest. An English article comes from a Russian document with odds 25:15, from a Ukrainian
one otherwise; a family's language is drawn the same way.

    python benchmarks/make_xling_corpus.py 100000 --out x.jsonl.gz   # + x.truth.jsonl.gz

The truth file has one ``{"id", "family", "lang", "kind", "role", "system", "doc", "changes"}``
a line (``role``: source, translation, variant, exact; ``doc``: the story's topic document),
with ``"copy_of"`` for an exact copy and ``"like"`` (the family it looks like) for a look-alike.

Articles are written in a shuffled order; each is made from ``(seed, story, member)`` alone, so
worker processes (``--workers``) make them in batches and the corpus does not depend on how many:
1,000,000 articles are never all in memory.
"""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import os
import random
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import click
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import make_corpus  # noqa: E402
from _data import DATASETS  # noqa: E402

from dedup.text.fingerprints import sound_code as _sound_code  # noqa: E402
from dedup.text.paragraphs import split_sentences  # noqa: E402

VERSION = 1  # of the corpus a seed makes: in the cached file's name, raised when it changes
LANGUAGES = {"en": 0.60, "ru": 0.25, "uk": 0.15}
KIND_RATES = {"xling": 0.06, "en": 0.03, "same": 0.03}  # of the stories; the rest are singles
LOOK_ALIKE_RATE = 0.04
BIG_EVERY = 50_000  # articles per big family
BIG_SIZES = (100, 500)
EXACT_SHARE = 0.2  # of a family's variants
MAX_RUN = 10  # units a story takes from its topic document, and from the others
LONGEST_UNIT = 250  # words: a longer document that cannot be cut is left out
BATCH = 1_000  # articles a worker makes at a time
# Syllables of invented names and subject forms, in Latin and in Cyrillic letters that
# anyascii transliterates back to the Latin: a name has the same sound code in both scripts.
SYLLABLES = [
    ("ka", "ка"), ("ra", "ра"), ("lo", "ло"), ("vin", "вин"), ("tes", "тес"), ("mar", "мар"),
    ("du", "ду"), ("sel", "сел"), ("ber", "бер"), ("to", "то"), ("ri", "ри"), ("fen", "фен"),
    ("gal", "гал"), ("ven", "вен"), ("tar", "тар"), ("mi", "ми"), ("lu", "лу"), ("kor", "кор"),
    ("nek", "нек"), ("dra", "дра"), ("vol", "вол"), ("zen", "зен"), ("tam", "там"), ("bel", "бел"),
    ("ros", "рос"), ("pal", "пал"), ("sim", "сим"), ("dor", "дор"), ("gen", "ген"), ("lam", "лам"),
    ("nor", "нор"), ("pet", "пет"), ("sun", "сун"), ("var", "вар"), ("bor", "бор"), ("kil", "кил"),
    ("mon", "мон"), ("tul", "тул"),
]  # fmt: skip
# Case endings kept when a Russian or Ukrainian name is replaced (longest first).
ENDINGS = sorted(
    ["ого", "ому", "ими", "ами", "ові", "ях", "ах", "ов", "ев", "ой", "ей", "ом", "ем", "ым", "им",
     "ую", "ая", "ий", "ый", "ій", "а", "у", "е", "ы", "и", "ю", "я", "і"],
    key=len, reverse=True,
)  # fmt: skip
FURNITURE = {  # make_corpus.FURNITURE, line for line
    "en": make_corpus.FURNITURE,
    "ru": [
        "Поделиться статьей",
        "Подписывайтесь на нас в социальных сетях",
        "Оставить комментарий",
        "Источник",
        "Читайте также: последние новости нашей редакции",
        "Подпишитесь на рассылку, чтобы получать новости каждый день",
        "Реклама",
    ],
    "uk": [
        "Поділитися статтею",
        "Стежте за нами в соціальних мережах",
        "Залишити коментар",
        "Джерело",
        "Читайте також: останні новини нашої редакції",
        "Підпишіться на розсилку, щоб отримувати новини щодня",
        "Реклама",
    ],
}
sound_code = lru_cache(maxsize=None)(_sound_code)  # the source names the same few words often
SUBJECT_FORMS = ([latin for latin, _ in SYLLABLES], [cyrillic for _, cyrillic in SYLLABLES])
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_LETTERS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# A unit's text as rendering needs it: the text before its first slot, then the slots, each
# followed by the text up to the next: ("#", digits, after) a number, ("@", code, ending,
# cyrillic, after) a name, ("w", word, its CRC-32, 1 if not ASCII, after) a word that may take its
# subject's form.
Template = tuple[str, tuple[tuple, ...]]


@dataclass(frozen=True)
class Document:
    """One source document cut into units: the source's text of each and each English member's."""

    name: str
    lang: str
    src: tuple[Template, ...]
    en: tuple[tuple[Template, ...], ...]  # per English member (system), per unit
    systems: tuple[str, ...]


@dataclass(frozen=True)
class Sources:
    """The documents of each source language and the vocabulary rewrites draw from."""

    documents: dict[str, list[Document]]
    vocabularies: dict[str, make_corpus.Source]

    @property
    def units(self) -> dict[str, int]:
        """Units per source language."""
        return {lang: sum(len(d.src) for d in docs) for lang, docs in self.documents.items()}


def _name_codes(text: str) -> tuple[set[str], set[str]]:
    """Sound codes of the capitalised words of ``text`` (4+ letters): all of them, and those of
    the words that do not open a sentence."""
    every, inner = set(), set()
    for sentence in _SENTENCE_END.split(text):
        for k, word in enumerate(_LETTERS.findall(sentence)):
            if len(word) >= 4 and word[0].isupper() and (code := sound_code(word)) is not None:
                every.add(code)
                if k:
                    inner.add(code)
    return every, inner


def _ending(word: str) -> str:
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return ending
    return ""


def template(text: str, names: set[str]) -> Template:
    """``text`` as literal strings and the slots a story fills: numbers of 3+ digits, names (a
    capitalised word whose code is in ``names``) and content words."""
    head, slots = None, []
    at = 0
    for m in _TOKEN.finditer(text):
        token = m.group()
        if len(token) < 3 or (len(token) == 3 and not token[0].isdigit()):
            continue
        if token[0].isdigit():
            slot: tuple = ("#", token)
        elif token.islower():
            slot = ("w", token, zlib.crc32(token.encode()), 0 if token.isascii() else 1)
        elif token[0].isupper() and (code := sound_code(token)) in names:
            cyrillic = not token.isascii()
            slot = ("@", code, _ending(token) if cyrillic else "", cyrillic)
        else:
            continue
        if head is None:
            head = text[: m.start()]
        else:
            slots[-1] += (text[at : m.start()],)
        slots.append(slot)
        at = m.end()
    if head is None:
        return text, ()
    slots[-1] += (text[at:],)
    return head, tuple(slots)


def _document(name: str, lang: str, src: list[str], members: list[tuple[str, list[str]]]) -> Document:
    """A document of aligned unit texts, its names found unit by unit."""
    src_templates, en_templates = [], [[] for _ in members]
    for u, text in enumerate(src):
        english = [units[u] for _, units in members]
        # a name: capitalised in the source and in a translation, inside a sentence in one of them
        (src_every, src_inner), coded = _name_codes(text), [_name_codes(e) for e in english]
        en_every, en_inner = set().union(*(c[0] for c in coded)), set().union(*(c[1] for c in coded))
        names = src_every & en_every & (src_inner | en_inner)
        src_templates.append(template(text, names))
        for k, other in enumerate(english):
            en_templates[k].append(template(other, names))
    return Document(
        name, lang, tuple(src_templates), tuple(map(tuple, en_templates)), tuple(s for s, _ in members)
    )


def _pieces(article: dict) -> list[tuple[tuple[str, ...], str]]:
    """An article's text in the pieces its ``seg_ids`` let us cut: a sentence where a paragraph
    has as many sentences as segments, else the paragraph."""
    pieces = []
    for paragraph, segments in zip(article["text"].split("\n\n"), article["seg_ids"], strict=True):
        sentences = split_sentences(paragraph)
        if len(sentences) == len(segments):
            pieces += [((s,), t) for s, t in zip(segments, sentences, strict=True)]
        else:
            pieces.append((tuple(segments), paragraph))
    return pieces


def _segmented(name: str, members: list[dict]) -> Document | None:
    """A v2/v3 document: units end at the segments where every member's text can be cut."""
    pieces = {m["system"]: _pieces(m) for m in members}
    ends = set.intersection(*({p[0][-1] for p in ps} for ps in pieces.values()))
    units: dict[str, list[str]] = {}
    for system, ps in pieces.items():
        out, buffer = [], []
        for segments, text in ps:
            buffer.append(text)
            if segments[-1] in ends:
                out.append(" ".join(buffer))
                buffer = []
        if buffer:
            out.append(" ".join(buffer))
        units[system] = out
    src = units.pop("src", None)
    if src is None:
        return None
    english = [(s, u) for s, u in sorted(units.items()) if len(u) == len(src)]
    return _document(name, _src_lang(members), src, english) if english else None


def _src_lang(members: list[dict]) -> str:
    return next(m["lang"] for m in members if m["system"] == "src")


def _sentenced(name: str, members: list[dict]) -> Document | None:
    """A document without ``seg_ids``: units are sentences for the English members with as many
    sentences as the source; one unit (the whole text) when fewer than two have."""
    flat = {m["system"]: " ".join(m["text"].split()) for m in members}
    src = flat.pop("src", None)
    if src is None or not flat:
        return None
    sentences = {s: split_sentences(t) for s, t in flat.items()}
    src_sentences = split_sentences(src)
    same = [(s, u) for s, u in sorted(sentences.items()) if len(u) == len(src_sentences)]
    if len(same) >= 2:
        return _document(name, _src_lang(members), src_sentences, same)
    if len(src.split()) > LONGEST_UNIT:
        return None
    return _document(name, _src_lang(members), [src], [(s, [t]) for s, t in sorted(flat.items())])


def _clusters(path: Path) -> dict[str, list[dict]]:
    if not (path / "articles.jsonl.gz").is_file():
        raise click.ClickException(
            f"{path / 'articles.jsonl.gz'}: not found (set DEDUP_DATA to the data folder)"
        )
    with gzip.open(path / "articles.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    clusters: dict[str, list[dict]] = {}
    for row in rows:
        clusters.setdefault(row["cluster"], []).append(row)
    return clusters


def load_sources(datasets: dict[str, Path] | None = None) -> Sources:
    """The documents of v2 and v3 (Russian, cut by segments) and of the dev set's Ukrainian
    sources (cut by sentences), and each language's vocabulary; ``datasets``: the dev sets'
    folders by ``_data.DATASETS``'s names (default: those)."""
    datasets = datasets or DATASETS
    documents: dict[str, list[Document]] = {"ru": [], "uk": []}
    for key in ("v2", "v3"):
        for name, members in sorted(_clusters(datasets[key]).items()):
            if (doc := _segmented(name, members)) is not None:
                documents[doc.lang].append(doc)
    for name, members in sorted(_clusters(datasets["dev"]).items()):
        if any(m["lang"] == "uk" for m in members) and (doc := _sentenced(name, members)) is not None:
            documents[doc.lang].append(doc)
    words: dict[str, set[str]] = {"en": set(), "ru": set(), "uk": set()}
    for lang, docs in documents.items():
        for doc in docs:
            for t in doc.src:
                words[lang].update(p[1] for p in t[1] if p[0] == "w")
            for member in doc.en:
                for t in member:
                    words["en"].update(p[1] for p in t[1] if p[0] == "w")
    vocabularies = {}
    for lang, vocabulary in words.items():
        by_initial: dict[str, list[str]] = {}
        for w in sorted(vocabulary):
            by_initial.setdefault(w[0], []).append(w)
        vocabularies[lang] = make_corpus.Source(f"wmt:{lang}", [], by_initial)
    return Sources(documents, vocabularies)


# --- the plan: which stories, which members, in which order ---------------------------------

# A member of a story: (language, system slot (-1: the source), base member, how), how one of
# "source", "translation" (of the units), "variant" (of member base), "exact" (copy of base).
Member = tuple[str, int, int, str]
# A story: (kind, source language, look-alike of (-1: none), members).
Story = tuple[str, str, int, tuple[Member, ...]]


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _pool(rng: random.Random, languages: dict[str, float]) -> str:
    ru, uk = languages.get("ru", 0.0), languages.get("uk", 0.0)
    return "ru" if rng.random() * (ru + uk) < ru or uk == 0 else "uk"


def _with_variants(rng: random.Random, members: list[Member], count: int) -> list[Member]:
    clean = len(members)
    for _ in range(count):
        base = rng.randrange(clean)
        how = "exact" if rng.random() < EXACT_SHARE else "variant"
        members.append((members[base][0], members[base][1], base, how))
    return members


def _family(rng: random.Random, kind: str, pool: str, systems: int) -> list[Member]:
    """The members of a family of ``kind`` whose documents have ``systems`` English members at
    least (translation j of a story is system slot j: each one different)."""
    src: Member = (pool, -1, -1, "source")
    if kind == "xling":
        translations = min(1 + _poisson(rng, 1.0), systems)
        members = [src] + [("en", j, -1, "translation") for j in range(translations)]
        return _with_variants(rng, members, _poisson(rng, 0.8))
    if kind == "en":
        translations = min(2 + _poisson(rng, 0.7), systems)
        return _with_variants(
            rng, [("en", j, -1, "translation") for j in range(translations)], _poisson(rng, 0.8)
        )
    if kind == "same":
        return _with_variants(rng, [src], 1 + _poisson(rng, 0.7) + _poisson(rng, 0.8))
    if kind == "big":
        size = rng.randint(*BIG_SIZES)
        members = [src] + [("en", j, -1, "translation") for j in range(systems)]
        return _with_variants(rng, members, max(0, size - len(members)))
    raise ValueError(f"kind {kind!r}")


def plan(
    sources: Sources, n: int, seed: int, languages: dict[str, float] = LANGUAGES
) -> tuple[list[Story], np.ndarray, np.ndarray]:
    """The stories of ``n`` articles and the order they are written in: ``(stories, story of
    each article, member of each article)``. Families first take their members; singles make up
    each language's share of ``n`` exactly where the families leave room."""
    rng = random.Random(f"{seed}:plan")
    stories: list[Story] = []
    total = 0
    big = round(n / BIG_EVERY)
    plain: dict[str, list[int]] = {"ru": [], "uk": []}  # stories a look-alike may copy
    while total < n:
        s = len(stories)
        pool = _pool(rng, languages)
        draw = rng.random()
        like = -1
        if s >= big and plain[pool] and rng.random() < LOOK_ALIKE_RATE:
            like = plain[pool][rng.randrange(len(plain[pool]))]
        if s < big:
            kind = "big"
        elif draw < (cut := KIND_RATES["xling"]):
            kind = "xling"
        elif draw < (cut := cut + KIND_RATES["en"]):
            kind = "en"
        elif draw < cut + KIND_RATES["same"]:
            kind = "same"
        else:
            kind = "single"
        if kind == "single":
            members: list[Member] = [("", 0, -1, "")]  # language and role drawn below
        else:
            docs = {d for d, _ in units_of(sources, seed, (kind, pool, like, ()), s)}
            systems = min(len(sources.documents[pool][d].en) for d in docs)
            members = _family(rng, kind, pool, systems)
        members = members[: n - total]
        if like < 0 and kind != "big":
            plain[pool].append(s)
        stories.append((kind, pool, like, tuple(members)))
        total += len(members)
    _fill_singles(stories, n, rng, languages)
    sizes = np.array([len(st[3]) for st in stories])
    story_of = np.repeat(np.arange(len(stories), dtype=np.int32), sizes)
    member_of = (np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)).astype(np.int32)
    order = np.random.default_rng([seed, 1]).permutation(n)
    return stories, story_of[order], member_of[order]


def _fill_singles(stories: list[Story], n: int, rng: random.Random, languages: dict[str, float]) -> None:
    """Give each single its language: what each language still lacks of its share of ``n`` after
    the families, spread over the singles (largest remainders); an English single's source
    language is drawn, a Russian or Ukrainian one's is its own."""
    taken = Counter(m[0] for st in stories if st[0] != "single" for m in st[3])
    singles = [s for s, st in enumerate(stories) if st[0] == "single"]
    want = {lang: max(0.0, share * n - taken[lang]) for lang, share in languages.items()}
    scale = len(singles) / sum(want.values()) if sum(want.values()) else 0.0
    counts = {lang: int(w * scale) for lang, w in want.items()}
    for lang in sorted(want, key=lambda x: -(want[x] * scale - counts[x]))[
        : len(singles) - sum(counts.values())
    ]:
        counts[lang] += 1
    drawn = [lang for lang in sorted(counts) for _ in range(counts[lang])]
    rng.shuffle(drawn)
    for s, lang in zip(singles, drawn, strict=True):
        _, pool, like, _ = stories[s]
        if lang != "en":
            pool = lang
        member = (lang, -1, -1, "source") if lang != "en" else ("en", 0, -1, "translation")
        stories[s] = ("single", pool, like, (member,))
    for s, (kind, pool, like, members) in enumerate(stories):  # a single's language may have moved
        if like >= 0 and stories[like][1] != pool:
            stories[s] = (kind, pool, -1, members)


# --- the texts ------------------------------------------------------------------------------


def units_of(sources: Sources, seed: int, story: Story, s: int) -> list[tuple[int, int]]:
    """The units ``(document, unit)`` of story ``s``, in order."""
    _, pool, like, _ = story
    docs = sources.documents[pool]
    rng = random.Random(f"{seed}:{s}:units")
    topic = rng.randrange(len(docs))
    n = len(docs[topic].src)
    run = min(MAX_RUN, max(1, round(n * rng.uniform(0.4, 0.8))))
    start = rng.randrange(n - run + 1)
    units = [(topic, u) for u in range(start, start + run)]
    extra = min(MAX_RUN, max(1, round(run * rng.uniform(0.5, 1.2))))
    while extra > 0:
        other = rng.randrange(len(docs))
        if other == topic and len(docs) > 1:
            continue
        size = min(extra, rng.randint(1, 3), len(docs[other].src))
        first = rng.randrange(len(docs[other].src) - size + 1)
        at = rng.randrange(len(units) + 1)
        units[at:at] = [(other, u) for u in range(first, first + size) if (other, u) not in units]
        extra -= size
    if like >= 0:  # a third to a half of the story it looks like, then its own
        theirs = units_of(sources, seed, ("", pool, -1, ()), like)
        keep = sorted(rng.sample(range(len(theirs)), max(1, round(len(theirs) * rng.uniform(1 / 3, 1 / 2)))))
        units = [theirs[k] for k in keep] + units[: max(1, len(units) // 2)]
    return units


class Voice:
    """A story's names, numbers and subject forms: the same in every language and member."""

    def __init__(self, seed: int, event: int, subjects: int, subject_share: float = 0.8) -> None:
        self.salt = zlib.crc32(f"{seed}:{event}:".encode())
        subject = zlib.crc32(f"{seed}:subject:{event}".encode()) % subjects
        # a word takes the subject's form when the top 14 bits of its CRC-32 times the subject's
        # odd multiplier fall under the share: a draw per subject and word, made in two operations
        self.subject_mult = zlib.crc32(f"{seed}:{subject}:".encode()) | 1
        self.cut = subject_share * (1 << 14)
        self.names: dict[str, tuple[str, str]] = {}
        self.numbers: dict[str, str] = {}

    def name(self, code: str) -> tuple[str, str]:
        """The invented name that replaces the names of sound code ``code``: Latin, Cyrillic."""
        if (known := self.names.get(code)) is None:
            h = zlib.crc32(code.encode(), self.salt)
            picks = [SYLLABLES[(h >> (6 * k)) % len(SYLLABLES)] for k in range(2 + (h >> 30) % 2)]
            known = self.names[code] = (
                "".join(p[0] for p in picks).capitalize(),
                "".join(p[1] for p in picks).capitalize(),
            )
        return known

    def number(self, digits: str) -> str:
        """The story's number for ``digits`` (3+ digits; a year stays a year)."""
        if (known := self.numbers.get(digits)) is None:
            h = zlib.crc32(digits.encode(), self.salt ^ 0x5BD1E995)
            if len(digits) == 4 and digits[:2] in ("19", "20"):
                known = str(1950 + h % 80)
            else:
                known = str(10 ** (len(digits) - 1) + h % (9 * 10 ** (len(digits) - 1)))
            self.numbers[digits] = known
        return known

    def render(self, parts: Template) -> str:
        """A unit's text in this story."""
        out = [parts[0]]
        mult, cut, forms, syllables = self.subject_mult, self.cut, SUBJECT_FORMS, len(SYLLABLES)
        for p in parts[1]:
            kind = p[0]
            if kind == "w":  # see __init__
                x = (p[2] * mult) & 0xFFFFFFFF
                out.append(p[1] + forms[p[3]][(x >> 8) % syllables] + p[4] if x >> 18 < cut else p[1] + p[4])
            elif kind == "#":
                out.append(self.number(p[1]) + p[2])
            else:
                latin, cyrillic = self.name(p[1])
                out.append((cyrillic + p[2] if p[3] else latin) + p[4])
        return "".join(out)


@dataclass(frozen=True)
class Settings:
    """What every article is made from, besides its story and member."""

    sources: Sources
    seed: int
    subjects: int


def _paragraphs(sentences: list[str], rng: random.Random) -> list[list[str]]:
    out, at = [], 0
    while at < len(sentences):
        size = rng.randint(2, 4)
        out.append(sentences[at : at + size])
        at += size
    return out


def _system(doc: Document, s: int, d: int, j: int) -> int:
    """Story ``s``'s system slot ``j`` in document ``d``: slots from an offset of its own."""
    return (zlib.crc32(f"{s}:{d}".encode()) + j) % len(doc.en)


def _clean(settings: Settings, s: int, m: int, story: Story, units: list[tuple[int, int]], voice: Voice):
    lang, j, _, _ = story[3][m]
    docs = settings.sources.documents[story[1]]
    if j < 0:
        sentences = [voice.render(docs[d].src[u]) for d, u in units]
        system = "src"
    else:
        slots = {d: _system(docs[d], s, d, j) for d in {d for d, _ in units}}
        sentences = [voice.render(docs[d].en[slots[d]][u]) for d, u in units]
        system = docs[units[0][0]].systems[slots[units[0][0]]]
    return _paragraphs(sentences, random.Random(f"{settings.seed}:{s}:{m}:paragraphs")), system


def article(settings: Settings, stories: list[Story], s: int, m: int) -> tuple[dict, dict]:
    """Article ``m`` of story ``s`` and its truth row."""
    story = stories[s]
    kind, pool, like, members = story
    units = units_of(settings.sources, settings.seed, story, s)
    voice = Voice(settings.seed, like if like >= 0 else s, settings.subjects)
    lang, _, base, how = members[m]
    changes: list[str] = []
    copy_of = None
    if how == "exact":
        copy_of, m_text = base, base
        how_text = members[base][3]
    else:
        m_text, how_text = m, how
    if how_text == "variant":
        paragraphs, system = _clean(settings, s, members[m_text][2], story, units, voice)
        rng = np.random.default_rng([settings.seed, s, m_text])
        paragraphs, changes = make_corpus.variant(settings.sources.vocabularies[lang], paragraphs, rng)
        furniture = {line: k for k, line in enumerate(make_corpus.FURNITURE)}
        paragraphs = [
            [FURNITURE[lang][furniture[p[0]]]] if len(p) == 1 and p[0] in furniture else p for p in paragraphs
        ]
    else:
        paragraphs, system = _clean(settings, s, m_text, story, units, voice)
    text = "\n\n".join(" ".join(p) for p in paragraphs)
    family = f"x{s:07d}"
    truth = {
        "id": f"{family}-{m}",
        "family": family,
        "lang": lang,
        "kind": kind,
        "role": "exact" if how == "exact" else how,
        "system": system,
        "doc": settings.sources.documents[pool][units[0][0]].name,
        "changes": ["exact"] if how == "exact" else [str(c) for c in changes],
    }
    if copy_of is not None:
        truth["copy_of"] = f"{family}-{copy_of}"
    if like >= 0:
        truth["like"] = f"x{like:07d}"
    return {"id": truth["id"], "text": text}, truth


def _batch(settings: Settings, stories: list[Story], keys: list[tuple[int, int]]) -> tuple[str, str]:
    """The corpus and truth lines of ``keys``."""
    lines, rows = [], []
    for s, m in keys:
        made, truth = article(settings, stories, s, m)
        lines.append(json.dumps(made, ensure_ascii=False) + "\n")
        rows.append(json.dumps(truth, ensure_ascii=False) + "\n")
    return "".join(lines), "".join(rows)


_STATE: tuple[Settings, list[Story]] | None = None


def _init(settings: Settings, stories: list[Story]) -> None:
    global _STATE
    _STATE = (settings, stories)


def _work(keys: list[tuple[int, int]]) -> tuple[str, str]:
    assert _STATE is not None
    return _batch(*_STATE, keys)


def make(
    sources: Sources, n: int, *, seed: int = 0, languages: dict[str, float] = LANGUAGES, workers: int = 1
) -> Iterator[tuple[str, str]]:
    """The corpus and truth JSON lines of ``n`` articles, in batches, in corpus order."""
    stories, story_of, member_of = plan(sources, n, seed, languages)
    settings = Settings(sources, seed, max(50, n // 20))
    keys = list(zip(story_of.tolist(), member_of.tolist(), strict=True))
    batches = [keys[k : k + BATCH] for k in range(0, n, BATCH)]
    if workers <= 1 or n < 5 * BATCH:
        for batch in batches:
            yield _batch(settings, stories, batch)
        return
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    with context.Pool(workers, initializer=_init, initargs=(settings, stories)) as pool:
        yield from pool.imap(_work, batches, chunksize=1)


def _languages(ctx: click.Context, param: click.Parameter, value: str) -> dict[str, float]:
    try:
        shares = {k.strip(): float(v) for k, v in (part.split("=") for part in value.split(","))}
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected en=0.6,ru=0.25,uk=0.15") from None
    if (
        set(shares) - set(LANGUAGES)
        or not shares.get("ru", 0) + shares.get("uk", 0)
        or min(shares.values()) < 0
    ):
        raise click.BadParameter(f"{value!r}: shares of en, ru and uk (ru or uk above 0)")
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}


def default_out(n: int, seed: int) -> Path:
    """Where benchmarks cache the corpus of ``n`` articles."""
    return HERE / ".cache" / f"xling-v{VERSION}-{n}-seed{seed}.jsonl.gz"


@click.command()
@click.argument("n", type=click.IntRange(min=1))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Corpus file (.jsonl or .jsonl.gz; default benchmarks/.cache/xling-vV-N-seedS.jsonl.gz); the "
    "truth goes beside it as <name>.truth.jsonl.gz.",
)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--languages",
    default="en=0.6,ru=0.25,uk=0.15",
    show_default=True,
    callback=_languages,
    help="Share of the articles in each language.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="all cores",
    help="Processes that make the texts (the corpus does not depend on it).",
)
def main(n: int, out: Path | None, seed: int, languages: dict[str, float], workers: int) -> None:
    """Write N synthetic multilingual articles with planted cross-language families, and their truth."""
    out = out or default_out(n, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    sources = load_sources()
    name = out.name.removesuffix(".gz").removesuffix(".jsonl")
    truth = out.with_name(f"{name}.truth.jsonl.gz")
    opener = partial(gzip.open, compresslevel=make_corpus.GZIP_LEVEL) if out.name.endswith(".gz") else open
    tmp_out, tmp_truth = out.with_name(out.name + ".tmp"), truth.with_name(truth.name + ".tmp")
    made = make(sources, n, seed=seed, languages=languages, workers=workers)
    with (
        opener(tmp_out, "wt", encoding="utf-8") as f,
        gzip.open(tmp_truth, "wt", encoding="utf-8", compresslevel=make_corpus.GZIP_LEVEL) as t,
        make_corpus._in_background(f, t) as write,
    ):
        for lines, rows in made:
            write(lines, rows)
    os.replace(tmp_out, out)
    os.replace(tmp_truth, truth)
    units = ", ".join(
        f"{lang} {len(d)} documents, {sources.units[lang]} units" for lang, d in sources.documents.items()
    )
    click.echo(f"{n:,} articles ({units}) -> {out}, {truth}")


if __name__ == "__main__":
    main()
