"""A synthetic news dump of N articles with planted duplicate families and their ground truth.

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

    python benchmarks/make_corpus.py 10000 --out corpus.jsonl.gz   # + corpus.truth.jsonl.gz

The truth file has one ``{"id", "family", "changes"}`` a line: articles of one family
are variants of one story; a story without variants is a family of one.

How alike unrelated stories are decides how many candidate pairs LSH proposes. With
these defaults ``dedup``'s LSH proposes 4,410 pairs for 2,000 articles (0.22% of all
pairs, 1,746 of them true; pair precision 0.999, recall 1.000) and 33,183 for 10,000
(3.3 per article; precision 0.996); the real WMT dev set: 21,126 for 2,780 (0.55%,
16,044 true). Without subjects (``--subjects 1``) it is 60,309 for 2,000 (3%).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dedup.sentences import split_sentences  # noqa: E402

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html/_sources")
TOPIC_SHARE = 0.5  # of a story's sentences taken from its topic document
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


@dataclass(frozen=True)
class Source:
    """Sentences of real text grouped by document, and the vocabulary of their content words."""

    name: str
    documents: list[list[str]]
    by_initial: dict[str, list[str]]


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
    by_initial: dict[str, set[str]] = {}
    for doc in documents:
        for sentence in doc:
            for word in _WORD.findall(sentence):
                if len(word) >= 4 and word.islower():
                    by_initial.setdefault(word[0], set()).add(word)
    return Source(name, documents, {k: sorted(v) for k, v in by_initial.items()})


def _name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))).capitalize()


def _in_subject(word: str, subject: int, share: float) -> str:
    """The form ``word`` takes in a subject: itself, or (for ``share`` of the vocabulary, chosen
    per subject) the word with a syllable of the subject appended."""
    h = zlib.crc32(f"{subject}:{word}".encode())
    if h % 10_000 >= share * 10_000:
        return word
    return word + SYLLABLES[(h >> 16) % len(SYLLABLES)]


def story(
    source: Source, seed: int, number: int, words: int = 400, subjects: int = 500, subject_share: float = 0.8
) -> list[list[str]]:
    """The paragraphs (lists of sentences) of story ``number``."""
    rng = np.random.default_rng([seed, number, 0])
    subject = int(rng.integers(subjects))
    topic = source.documents[int(rng.integers(len(source.documents)))]
    entities = [_name(rng) for _ in range(8)] + [str(int(rng.integers(2, 5000))) for _ in range(4)]
    target = max(60, int(rng.normal(words, words / 5)))
    sentences: list[str] = []
    total = 0
    own = iter(rng.permutation(len(topic)).tolist())  # the topic's sentences, each at most once
    while total < target:
        k = next(own, None) if rng.random() < TOPIC_SHARE else None
        if k is not None:
            sentence = topic[k]
        else:
            doc = source.documents[int(rng.integers(len(source.documents)))]
            sentence = doc[int(rng.integers(len(doc)))]
        out = []
        for k, word in enumerate(sentence.split()):
            core = word.strip(".,;:!?()\"'")
            if core and (len(core) >= 8 or (k > 0 and core[0].isupper())) and rng.random() < 0.35:
                word = word.replace(core, entities[int(rng.integers(len(entities)))])
            elif len(core) >= 4 and core.isalpha() and core.islower():
                word = word.replace(core, _in_subject(core, subject, subject_share))
            out.append(word)
        sentences.append(" ".join(out))
        total += len(out)
    return _paragraphs(sentences, rng)


def _paragraphs(sentences: list[str], rng: np.random.Generator) -> list[list[str]]:
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
            paragraphs = [[_rewrite(s, source, rng) for s in p] for p in paragraphs]
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
            head = list(rng.choice(FURNITURE, size=int(rng.integers(0, 2)), replace=False))
            tail = list(rng.choice(FURNITURE, size=int(rng.integers(1, 3)), replace=False))
        elif change == "reparagraph":
            paragraphs = _paragraphs([s for p in paragraphs for s in p], rng)
    return [[h] for h in head] + paragraphs + [[t] for t in tail], changes


def _rewrite(sentence: str, source: Source, rng: np.random.Generator) -> str:
    out = []
    for word in sentence.split():
        core = word.strip(".,;:!?()\"'")
        if len(core) >= 4 and core.islower() and rng.random() < 0.08:
            pool = source.by_initial.get(core[0], [])
            drawn = [pool[int(k)] for k in rng.integers(len(pool), size=20)] if pool else []
            near = [w for w in drawn if abs(len(w) - len(core)) <= 1 and w != core]
            if near:
                word = word.replace(core, near[int(rng.integers(len(near)))])
        out.append(word)
    return " ".join(out)


def plan(stories: int, family_rate: float, seed: int) -> list[tuple[int, int]]:
    """``(story, copy)`` of every article, shuffled; copy 0 is the story itself."""
    rng = np.random.default_rng([seed, 1])
    copies = np.where(rng.random(stories) < family_rate, 1 + np.minimum(rng.poisson(2.0, stories), 9), 0)
    items = [(s, c) for s in range(stories) for c in range(int(copies[s]) + 1)]
    order = rng.permutation(len(items))
    return [items[k] for k in order]


def articles_for(n: int, family_rate: float, seed: int) -> list[tuple[int, int]]:
    """A plan of exactly ``n`` articles (stories are added until there are enough, then cut)."""
    stories = max(1, int(n / (1 + family_rate * 3)))
    items = plan(stories, family_rate, seed)
    while len(items) < n:
        stories = int(stories * 1.1) + 1
        items = plan(stories, family_rate, seed)
    return items[:n]


def make(
    source: Source,
    n: int,
    *,
    seed: int = 0,
    family_rate: float = 0.2,
    words: int = 400,
    subjects: int | None = None,
    subject_share: float = 0.8,
) -> Iterator[dict]:
    """``{"id", "text", "family", "changes"}`` for each of ``n`` articles, in corpus order.

    ``subjects`` defaults to one per 20 articles (at least 50): a bigger dump covers more subjects.
    """
    subjects = subjects or max(50, n // 20)
    for s, c in articles_for(n, family_rate, seed):
        paragraphs = story(source, seed, s, words, subjects, subject_share)
        changes: list[str] = []
        if c:
            paragraphs, changes = variant(source, paragraphs, np.random.default_rng([seed, s, c]))
        text = "\n\n".join(" ".join(p) for p in paragraphs)
        yield {"id": f"s{s:07d}-{c}", "text": text, "family": f"s{s:07d}", "changes": changes}


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
@click.option("--family-rate", default=0.2, show_default=True, help="Share of stories that get variants.")
@click.option("--words", default=400, show_default=True, help="Mean length of a story in words.")
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
    words: int,
    subjects: int | None,
    subject_share: float,
    source_dir: Path | None,
) -> None:
    """Write N synthetic articles with planted duplicate families, and their ground truth."""
    source = load_source(source_dir)
    name = out.name.removesuffix(".gz").removesuffix(".jsonl")
    truth = out.with_name(f"{name}.truth.jsonl.gz")
    opener = gzip.open if out.name.endswith(".gz") else open
    tmp_out, tmp_truth = out.with_name(out.name + ".tmp"), truth.with_name(truth.name + ".tmp")
    with opener(tmp_out, "wt", encoding="utf-8") as f, gzip.open(tmp_truth, "wt", encoding="utf-8") as t:
        made = make(source, n, seed=seed, family_rate=family_rate, words=words, subjects=subjects,
                    subject_share=subject_share)  # fmt: skip
        for article in made:
            f.write(json.dumps({"id": article["id"], "text": article["text"]}, ensure_ascii=False) + "\n")
            t.write(json.dumps({"id": article["id"], "family": article["family"],
                                "changes": article["changes"]}) + "\n")  # fmt: skip
    os.replace(tmp_out, out)
    os.replace(tmp_truth, truth)
    click.echo(f"{n:,} articles from {source.name} ({len(source.documents)} documents) -> {out}, {truth}")


if __name__ == "__main__":
    main()
