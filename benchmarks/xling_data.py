"""Held-out multilingual sets for cross-lingual linking, built from public WMT system outputs.

The dev set (``../shared/data/wmt-variants-dev``) has Ukrainian and Russian sources and their
English translations only. These sets judge the linking on languages and texts it was not tuned
on (docs/xling-data.md says what each holds, where it comes from and under which terms):

- ``wmt21-ja``, ``wmt21-is``: Japanese and Icelandic news translated into English, and English
  news translated into Japanese and Icelandic (WMT21 news task), both directions in one set;
- ``wmt21-fr-de``: French news into German and German news into French (not through English);
- ``wmt21-en-ja-is``: the same English documents translated into both Japanese and Icelandic
  (links between two non-English languages);
- ``wmt22-short``: short texts of the WMT22 general task (conversations, product reviews and
  listings, social posts, one-line messages) in ja→en, fr→de, de→fr, en→zh, en→hr, ru→en and uk→en.

An article is a source document, its human reference(s) or one MT system's output of it; the
articles made from one source document share a ``cluster`` (the same JSONL as wmt-variants-dev).
Documents of one set were written in the same weeks, so different clusters can tell the same
story (``build-meta.json`` lists the closest pairs): those are negatives a linker must not join.

The WMT repositories are read from the bare git mirrors the ``fetch`` tool makes
(``<mirror>/wmt-conference+wmt21-news-systems/repo``), at the commits pinned below.

    python benchmarks/xling_data.py                 # every set
    python benchmarks/xling_data.py --only wmt21-ja # one set

Writes ``benchmarks/.cache/xling/<name>/articles.jsonl.gz`` and ``build-meta.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

CACHE = Path(__file__).resolve().parent / ".cache" / "xling"
MIRROR = Path(os.environ.get("DEDUP_MIRROR", "/work/.mirror"))
SEED = 20261208

# Terms of every source repository (no licence file; the human-evaluation README's words).
WMT_TERMS = (
    "no licence file; the repository's humaneval README: 'The data contained in this package is "
    "provided for research purposes only and comes with no guarantee'; cite the findings paper. "
    "Research and evaluation use only; do not redistribute as a product dataset."
)
REPOS: dict[str, dict[str, str]] = {
    "wmt21": {
        "repo": "wmt-conference/wmt21-news-systems",
        "commit": "f41750dadbf2ba6ab01ca5380347d253298a3427",
        "path": "xml/newstest2021.{pair}.all.xml",
        "cite": "Akhbardeh et al., Findings of the 2021 Conference on Machine Translation (WMT21)",
    },
    "wmt22": {
        "repo": "wmt-conference/wmt22-news-systems",
        "commit": "20240a2e96a50e823ea8cdf37fd8af52547146e3",
        "path": "xml/wmttest2022.{pair}.all.xml",
        "cite": "Kocmi et al., Findings of the 2022 Conference on Machine Translation (WMT22)",
    },
}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
SPACELESS = {"ja", "zh"}  # sentences are joined without a space
SHORT_DOMAINS = ("conversation", "ecommerce", "social")


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class Side:
    """One text of a WMT document (its source, a reference or a system's output): ``lang``,
    its segments ``{seg id: text}`` in order, and the segment ids of each ``<p>``."""

    lang: str
    segments: dict[str, str]
    paragraphs: list[list[str]]


@dataclass
class Doc:
    """One WMT test document: its source, human references (by translator) and system outputs."""

    id: str
    origlang: str
    domain: str | None
    collection: str | None
    src: Side
    refs: dict[str, Side] = field(default_factory=dict)
    hyps: dict[str, Side] = field(default_factory=dict)


def _side(element: ET.Element, where: str) -> Side:
    lang = element.get("lang")
    if not lang:
        raise ValueError(f"{where}: <{element.tag}> has no lang attribute")
    segments: dict[str, str] = {}
    paragraphs = []
    for p in element.iter("p"):
        ids = []
        for seg in p.iter("seg"):
            sid = seg.get("id")
            if sid is None:
                raise ValueError(f"{where}: a <seg> of <{element.tag}> has no id")
            segments[sid] = " ".join((seg.text or "").split())
            ids.append(sid)
        paragraphs.append(ids)
    return Side(lang, segments, paragraphs)


def parse_wmt_xml(data: bytes | str, name: str = "<xml>") -> list[Doc]:
    """The documents of one WMT ``*.all.xml`` (``<dataset>`` of ``<doc>``s, optionally inside
    ``<collection>``s, each with ``<src>``, ``<ref translator=..>`` and ``<hyp system=..>``)."""
    root = ET.fromstring(data)
    docs = []
    for collection in root.iter("collection") if root.find("collection") is not None else [root]:
        cid = collection.get("id") if collection.tag == "collection" else None
        for d in collection.iter("doc"):
            where = f"{name}: doc {d.get('id')!r}"
            src = d.find("src")
            if d.get("id") is None or src is None:
                raise ValueError(f"{where}: a <doc> needs an id and a <src>")
            doc = Doc(
                d.get("id"), d.get("origlang") or src.get("lang"), d.get("domain"), cid, _side(src, where)
            )
            for r in d.findall("ref"):
                doc.refs[r.get("translator") or "A"] = _side(r, where)
            for h in d.findall("hyp"):
                doc.hyps[h.get("system") or "?"] = _side(h, where)
            docs.append(doc)
    return docs


def domain_of(doc: Doc) -> str | None:
    """The document's WMT domain, or the one its id names (``social_ru_12``), else None."""
    if doc.domain:
        return doc.domain
    head = doc.id.split("_")[0]
    return {"conversational": "conversation", "social": "social", "ecommerce": "ecommerce"}.get(head)


# --- measures --------------------------------------------------------------------------------


def tokens(text: str, cjk: int = 1) -> list[str]:
    """Lower-cased words, and character ``cjk``-grams for Chinese, Japanese and Korean script
    (which has no spaces between words), so that texts of any script can be compared."""
    out: list[str] = []
    for word in re.findall(r"\w+", text.lower()):
        if CJK.search(word):
            out.extend(word[i : i + cjk] for i in range(max(1, len(word) - cjk + 1)))
        else:
            out.append(word)
    return out


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = tokens(text)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def containment(a: set, b: set) -> float:
    """Share of the smaller set found in the other."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    x, y = set(a), set(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def text_of(side: Side) -> str:
    return " ".join(t for t in side.segments.values() if t)


def screen_systems(docs: Sequence[Doc], ref: str = "A") -> dict[str, dict]:
    """Each system's median per-document token Jaccard to the reference ``ref`` and its share of
    empty segments; ``kept`` is False for a degenerate one (Jaccard < 0.20 or > 5% empty)."""
    systems = sorted({s for d in docs for s in d.hyps})
    out = {}
    for name in systems:
        scores, empty, total = [], 0, 0
        for d in docs:
            hyp = d.hyps.get(name)
            if hyp is None or ref not in d.refs:
                continue
            scores.append(jaccard(tokens(text_of(hyp)), tokens(text_of(d.refs[ref]))))
            empty += sum(not t for t in hyp.segments.values())
            total += len(hyp.segments)
        median = statistics.median(scores) if scores else 0.0
        share = empty / total if total else 1.0
        out[name] = {
            "median_jaccard_to_ref": round(median, 3),
            "empty_share": round(share, 4),
            "kept": median >= 0.20 and share <= 0.05,
        }
    return out


def layout_seed(*parts: str) -> int:
    """48 bits of sha1 over ``SEED`` and ``parts``: a paragraph layout per article."""
    return int(hashlib.sha1(":".join([str(SEED), *parts]).encode()).hexdigest()[:12], 16)


def paragraphs(side: Side, mode: str, seed: int) -> list[list[str]]:
    """Segment ids per paragraph: ``xml`` keeps the document's ``<p>``s; ``random-2-4`` joins the
    sentences into paragraphs of 2-4 at boundaries drawn with ``random.Random(seed)`` (an outlet
    re-paragraphing a wire); ``one`` makes a single paragraph. Empty segments are left out."""
    ids = [[s for s in p if side.segments.get(s)] for p in side.paragraphs]
    if mode == "xml":
        return [p for p in ids if p]
    flat = [s for p in ids for s in p]
    if mode == "one":
        return [flat] if flat else []
    if mode != "random-2-4":
        raise ValueError(f"unknown paragraph mode {mode!r}")
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(flat):
        n = rng.randint(2, 4)
        out.append(flat[i : i + n])
        i += n
    return out


def render(side: Side, layout: list[list[str]]) -> str:
    """The text: a paragraph's segments joined by a space (none for Japanese and Chinese),
    paragraphs by a blank line."""
    joiner = "" if side.lang in SPACELESS else " "
    return "\n\n".join(joiner.join(side.segments[s] for s in p) for p in layout)


# --- sets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Documents of one WMT file that go into a set."""

    year: str
    pair: str
    systems: int = 6  # MT systems per document (drawn among the kept ones)
    refs: tuple[str, ...] = ("A",)
    min_segments: int = 5
    domains: tuple[str, ...] | None = None  # None: every domain
    max_chars: int | None = None  # longest source kept (characters; CJK ones count 2.5)
    max_docs: int | None = None  # a seeded sample of at most this many documents
    para_mode: str = "random-2-4"
    with_source: bool = True


@dataclass(frozen=True)
class Spec:
    name: str
    about: str
    parts: tuple[Part, ...]
    merge_targets: bool = False  # parts share source documents: one cluster per source document
    score_parts: bool = False  # the benchmark also scores each part (language pair) on its own


SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec(
            "wmt21-ja",
            "WMT21 news: Japanese sources with English translations, English sources with Japanese ones",
            (Part("wmt21", "ja-en"), Part("wmt21", "en-ja")),
        ),
        Spec(
            "wmt21-is",
            "WMT21 news: Icelandic sources with English translations, English sources with Icelandic ones",
            (Part("wmt21", "is-en"), Part("wmt21", "en-is")),
        ),
        Spec(
            "wmt21-fr-de",
            "WMT21 news: French sources with German translations, German sources with French ones",
            (Part("wmt21", "fr-de"), Part("wmt21", "de-fr")),
        ),
        Spec(
            "wmt21-en-ja-is",
            "WMT21 news: the same English sources translated into Japanese and into Icelandic",
            (Part("wmt21", "en-ja", systems=2), Part("wmt21", "en-is", systems=2, with_source=False)),
            merge_targets=True,
        ),
        Spec(
            "wmt22-short",
            "WMT22 general task, short texts: conversations, product reviews, social posts, messages",
            tuple(
                Part(
                    "wmt22",
                    pair,
                    systems=3,
                    min_segments=1,
                    domains=domains,
                    max_chars=600,
                    max_docs=80,
                    para_mode="one",
                )
                for pair, domains in (
                    ("ja-en", SHORT_DOMAINS),
                    ("fr-de", SHORT_DOMAINS),
                    ("de-fr", SHORT_DOMAINS),
                    ("en-zh", SHORT_DOMAINS),
                    ("en-hr", SHORT_DOMAINS),
                    ("ru-en", SHORT_DOMAINS),
                    ("uk-en", None),
                )
            ),
            score_parts=True,
        ),
    )
}


def source_chars(doc: Doc) -> float:
    text = text_of(doc.src)
    cjk = len(CJK.findall(text))
    return len(text) - cjk + 2.5 * cjk


def select_docs(docs: Sequence[Doc], part: Part) -> tuple[list[Doc], Counter]:
    """The documents of ``part`` (and why the others were left out)."""
    left_out: Counter = Counter()
    kept = []
    for d in docs:
        if d.id.startswith("tsuite") or (d.collection not in (None, "general")):
            left_out["test suite"] += 1
        elif sum(1 for t in d.src.segments.values() if t) < part.min_segments:
            left_out[f"fewer than {part.min_segments} segments"] += 1
        elif part.domains is not None and domain_of(d) not in part.domains:
            left_out["domain"] += 1
        elif part.max_chars is not None and source_chars(d) > part.max_chars:
            left_out[f"source over {part.max_chars} characters"] += 1
        else:
            kept.append(d)
    # canned texts (a chat agent's closing formula) recur as different documents: keep the first
    seen: list[set] = []
    distinct = []
    for d in kept:
        mine = shingles(text_of(d.src))
        if any(containment(mine, other) >= 0.5 for other in seen):
            left_out["near-copy of an earlier document's source"] += 1
            continue
        seen.append(mine)
        distinct.append(d)
    kept = distinct
    if part.max_docs is not None and len(kept) > part.max_docs:
        rng = random.Random(layout_seed(part.year, part.pair, "docs"))
        chosen = set(rng.sample(range(len(kept)), part.max_docs))
        left_out["sampled out"] += len(kept) - part.max_docs
        kept = [d for i, d in enumerate(kept) if i in chosen]
    return kept, left_out


def build_part(docs: Sequence[Doc], part: Part, cluster_key: str = "pair") -> tuple[list[dict], dict]:
    """The articles of one part and what went into them (``build-meta.json``)."""
    screening = screen_systems(docs, part.refs[0])
    kept_systems = [s for s, v in screening.items() if v["kept"]]
    rng = random.Random(layout_seed(part.year, part.pair, "systems"))
    systems = sorted(rng.sample(kept_systems, min(part.systems, len(kept_systems))))
    chosen, left_out = select_docs(docs, part)
    rows, skipped = [], Counter()
    for d in chosen:
        cluster = (
            f"{part.year}.{d.origlang}.{d.id}" if cluster_key == "doc" else f"{part.year}.{part.pair}.{d.id}"
        )
        members: list[tuple[str, Side]] = [("src", d.src)] if part.with_source else []
        members += [(f"ref-{t}", d.refs[t]) for t in part.refs if t in d.refs]
        members += [(s, d.hyps[s]) for s in systems if s in d.hyps]
        src_tokens = tokens(text_of(d.src))
        for system, side in members:
            if system != "src" and jaccard(tokens(text_of(side)), src_tokens) > 0.5:
                skipped["copy of the source"] += 1
                continue
            tag = system if cluster_key == "pair" or system == "src" else f"{system}.{side.lang}"
            seed = layout_seed(cluster, tag)
            layout = paragraphs(side, part.para_mode, seed)
            if not layout:
                skipped["empty"] += 1
                continue
            rows.append(
                {
                    "id": f"{cluster}::{tag}",
                    "text": render(side, layout),
                    "cluster": cluster,
                    "lang": side.lang,
                    "system": system,
                    "origlang": d.origlang,
                    "domain": domain_of(d),
                    "pair": part.pair,
                    "year": part.year,
                    "para_mode": part.para_mode,
                    "layout_seed": seed,
                    "seg_ids": layout,
                }
            )
    meta = {
        "pair": part.pair,
        "file": REPOS[part.year]["path"].format(pair=part.pair),
        "documents_in_file": len(docs),
        "documents_kept": len(chosen),
        "left_out": dict(left_out),
        "systems_kept": systems,
        "screening": screening,
        "members_skipped": dict(skipped),
        "articles": len(rows),
    }
    return rows, meta


# --- look-alikes -----------------------------------------------------------------------------


def look_alikes(rows: Sequence[dict], floor: float = 0.25, top: int = 15) -> dict:
    """Pairs of different clusters that tell a similar story: for each language, the TF-IDF
    cosine (``tokens``, CJK character bigrams, sublinear tf, smoothed idf) of the clusters'
    human-written texts in it (their source or ``ref-A``); pairs at ``floor`` or above are
    counted and the ``top`` listed."""
    import numpy as np

    found: dict[tuple[str, str], tuple[float, str]] = {}
    for lang in sorted({r["lang"] for r in rows}):
        texts = {}
        for r in rows:
            if r["lang"] == lang and r["system"] in ("src", "ref-A") and r["cluster"] not in texts:
                texts[r["cluster"]] = Counter(tokens(r["text"], cjk=2))
        names = sorted(texts)
        if len(names) < 2:
            continue
        df = Counter(t for c in names for t in texts[c])
        idf = {t: math.log((1 + len(names)) / (1 + n)) + 1 for t, n in df.items()}
        vocab = {t: i for i, t in enumerate(df)}
        matrix = np.zeros((len(names), len(vocab)), dtype=np.float32)
        for i, c in enumerate(names):
            for t, n in texts[c].items():
                matrix[i, vocab[t]] = (1 + math.log(n)) * idf[t]
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
        cos = matrix @ matrix.T
        for i, j in zip(*np.nonzero(np.triu(cos >= floor, 1)), strict=True):
            key = (names[i], names[j])
            if float(cos[i, j]) > found.get(key, (0.0, ""))[0]:
                found[key] = (float(cos[i, j]), lang)
    ranked = sorted(found.items(), key=lambda kv: -kv[1][0])
    origin = {r["cluster"]: r["origlang"] for r in rows}
    return {
        "measure": f"TF-IDF cosine of two clusters' source or ref-A texts in one language, >= {floor}",
        "pairs": len(ranked),
        "pairs_of_different_source_languages": sum(origin[a] != origin[b] for a, b in found),
        "top": [{"a": a, "b": b, "lang": lang, "cosine": round(c, 3)} for (a, b), (c, lang) in ranked[:top]],
    }


# --- reading the mirror ----------------------------------------------------------------------


def mirror_dir(repo: str, root: Path = MIRROR) -> Path:
    return root / repo.replace("/", "+") / "repo"


def read_file(year: str, pair: str, root: Path = MIRROR) -> bytes:
    """One WMT file from the bare mirror, at the pinned commit; a one-line error if it is absent."""
    info = REPOS[year]
    where = mirror_dir(info["repo"], root)
    if not (where / "HEAD").exists():
        raise click.ClickException(
            f"no mirror of {info['repo']} at {where}: bring it with the fetch tool "
            f"(github:{info['repo']}) or set DEDUP_MIRROR / --mirror to the folder holding it"
        )
    path = info["path"].format(pair=pair)
    done = subprocess.run(
        ["git", "-C", str(where), "show", f"{info['commit']}:{path}"], capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise click.ClickException(
            f"{where}: cannot read {path} at {info['commit'][:12]} ({message[0]}); fetch the repository again"
        )
    return done.stdout


def build(spec: Spec, root: Path = MIRROR) -> tuple[list[dict], dict]:
    """The articles of a set and its build-meta."""
    rows: list[dict] = []
    parts = []
    for part in spec.parts:
        data = read_file(part.year, part.pair, root)
        docs = parse_wmt_xml(data, REPOS[part.year]["path"].format(pair=part.pair))
        got, meta = build_part(docs, part, "doc" if spec.merge_targets else "pair")
        rows += got
        parts.append(meta)
    if spec.merge_targets:  # keep the clusters every part has, so each holds all target languages
        per_cluster = Counter(r["cluster"] for r in rows)
        langs = {c: {r["lang"] for r in rows if r["cluster"] == c} for c in per_cluster}
        wanted = {p.pair.split("-")[1] for p in spec.parts} | {spec.parts[0].pair.split("-")[0]}
        rows = [r for r in rows if langs[r["cluster"]] == wanted]
    years = sorted({p.year for p in spec.parts})
    clusters = {r["cluster"] for r in rows}
    # WMT22 conversations: one chat's customer turns (fr, de) and agent turns (en) are documents
    # of one id in different files: the same exchange, not a translation
    by_doc: dict[str, set[str]] = {}
    for c in clusters:
        by_doc.setdefault(c.split(".", 2)[2], set()).add(c)
    shared = {d: sorted(cs) for d, cs in sorted(by_doc.items()) if len(cs) > 1}
    meta = {
        "name": spec.name,
        "about": spec.about,
        "command": f"python benchmarks/xling_data.py --only {spec.name}",
        "seed": SEED,
        "sources": [
            {"repo": REPOS[y]["repo"], "commit": REPOS[y]["commit"], "cite": REPOS[y]["cite"]} for y in years
        ],
        "licence": WMT_TERMS,
        "parts": parts,
        "counts": {
            "articles": len(rows),
            "clusters": len(clusters),
            "by_lang": dict(sorted(Counter(r["lang"] for r in rows).items())),
            "by_origlang": dict(sorted(Counter(r["origlang"] for r in rows).items())),
            "by_domain": dict(sorted(Counter(str(r["domain"]) for r in rows).items())),
            "by_pair": dict(sorted(Counter(r["pair"] for r in rows).items())),
            "median_chars": statistics.median(len(r["text"]) for r in rows) if rows else 0,
        },
        "look_alikes": look_alikes(rows),
        "one_document_id_in_several_clusters": shared,
    }
    return rows, meta


def write(name: str, rows: Sequence[dict], meta: dict, out: Path = CACHE) -> Path:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "articles.jsonl.gz", "wt", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (folder / "build-meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return folder


def load(name: str, out: Path = CACHE) -> list[dict]:
    """The articles of a built set; a one-line error saying how to build it if it is absent."""
    path = out / name / "articles.jsonl.gz"
    if not path.exists():
        raise click.ClickException(
            f"{path} is missing: build it with python benchmarks/xling_data.py --only {name}"
        )
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@click.command()
@click.option("--only", type=click.Choice(sorted(SPECS)), multiple=True, help="Build only these sets.")
@click.option(
    "--mirror",
    type=click.Path(file_okay=False, path_type=Path),
    default=MIRROR,
    show_default=True,
    help="Folder of the fetched bare repositories (owner+name/repo).",
)
def main(only: tuple[str, ...], mirror: Path) -> None:
    """Build the held-out sets into benchmarks/.cache/xling/."""
    for name in only or SPECS:
        rows, meta = build(SPECS[name], mirror)
        folder = write(name, rows, meta)
        c = meta["counts"]
        langs = ", ".join(f"{k} {v}" for k, v in c["by_lang"].items())
        click.echo(
            f"{name}: {c['articles']:,} articles, {c['clusters']} clusters ({langs}); "
            f"{meta['look_alikes']['pairs']} look-alike cluster pairs; -> {folder}"
        )


if __name__ == "__main__":
    sys.exit(main())
