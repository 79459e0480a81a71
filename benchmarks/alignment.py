"""Paragraph alignment quality and speed, against a greedy best-match baseline.

Gold: ``alignment.jsonl.gz`` of the WMT variants dev set: 600 pairs of variants of
one document with the paragraph pairs ``[i, j]`` that share a source sentence. A
predicted link ``a=[1, 2], b=[3]`` stands for the pairs (1, 3) and (2, 3); link
precision, recall and F1 count such pairs over all the pairs of a set.

Rows (methods):
    greedy        each paragraph linked to its best TF-IDF match on the other
                  side (both ways), threshold chosen in hindsight on the dev pairs
    paragraph-DP  ``align(unit="paragraph")``: the same DP over whole paragraphs
    sentence-DP   ``align()`` with its defaults (the method; ``similarity="auto"``: for two texts
                  in different languages fingerprints, with the embeddings of ``newsdedup[xling]``
                  when it is installed; TF-IDF of words otherwise)
    ... ablations of the method: fuzz / mix similarity, no attach, no moved pass

Columns (pair sets):
    same-lang     the 516 English-English pairs as given
    cross-lang    the 84 source (uk/ru) - English pairs
    Stress variants of the same-language pairs, which the dev set does not
    contain, each with the gold links mapped through the change:
    +foreign      B gets two paragraphs of another document inserted at random
                  places (they must stay unlinked)
    -dropped      one paragraph of B is removed (when B has three or more)
    moved         one paragraph of B is moved elsewhere
    +boiler       B gets site furniture before and after ("Share this article",
                  "Leave a Comment", ...), which must be boilerplate, not links
    lines         B is written one paragraph per line, without blank lines
    noisy         every paragraph of B loses 8% of its words and has 5% of them
                  misspelt (two letters swapped)
Plus "cross-doc": links per pair found between the 200 most similar pairs of
articles of *different* documents (same events, same names): the fewer the
better, though a quote both articles carry is a fair link.

Then it times ``align`` on two articles of 200 paragraphs each.

    python benchmarks/alignment.py           # table, saves results/alignment.json
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import WMT_DEV, load_wmt, save_json  # noqa: E402
from tune import noisy  # noqa: E402

from dedup.report.align import align  # noqa: E402
from dedup.text.paragraphs import split_paragraphs  # noqa: E402

Pairs = set[tuple[int, int]]
Aligner = Callable[[str, str], Pairs]
FURNITURE_BEFORE = ["Share this article", "Follow us on Twitter"]
FURNITURE_AFTER = ["Leave a Comment", "Source link", "Read more: the latest news from the region"]


def greedy(text_a: str, text_b: str, threshold: float) -> Pairs:
    """Greedy baseline: every paragraph linked to its most similar paragraph of the other text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    pa, pb = split_paragraphs(text_a), split_paragraphs(text_b)
    m = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(pa + pb)
    sim = (m[: len(pa)] @ m[len(pa) :].T).toarray()
    out = set()
    for i in range(len(pa)):
        j = int(sim[i].argmax())
        if sim[i, j] >= threshold:
            out.add((i, j))
    for j in range(len(pb)):
        i = int(sim[:, j].argmax())
        if sim[i, j] >= threshold:
            out.add((i, j))
    return out


def method(**kwargs: object) -> Aligner:
    return lambda a, b: align(a, b, **kwargs).pairs()


def prf(cases: list[tuple[str, str, Pairs]], aligner: Aligner) -> dict[str, float]:
    tp = fp = fn = 0
    for a, b, gold in cases:
        pred = aligner(a, b)
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}


def _join(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


Case = tuple[str, str, Pairs]


def stress(kind: str, cases: list[Case], stories: list[str], donors: list[dict], seed: int = 0) -> list[Case]:
    """The same-language cases changed by ``kind``, gold links mapped through the change.

    ``stories`` holds each case's document; foreign paragraphs come from ``donors`` of other documents.
    """
    rng = random.Random(seed)
    out = []
    for (a, b, gold), story in zip(cases, stories, strict=True):
        pb = split_paragraphs(b)
        new_index = list(range(len(pb)))  # new position of each old paragraph of B (None: gone)
        if kind == "+foreign":
            donor = split_paragraphs(rng.choice([d for d in donors if d["cluster"] != story])["text"])
            for text in rng.sample(donor, min(2, len(donor))):
                at = rng.randrange(len(pb) + 1)
                pb.insert(at, text)
                new_index = [k + (k >= at) for k in new_index]
        elif kind == "-dropped":
            if len(pb) >= 3:
                gone = rng.randrange(len(pb))
                del pb[gone]
                new_index = [None if k == gone else k - (k > gone) for k in new_index]
        elif kind == "moved":
            if len(pb) >= 3:
                src = rng.randrange(len(pb))
                dst = rng.choice([k for k in range(len(pb)) if abs(k - src) > 1] or [src])
                order = list(range(len(pb)))
                order.insert(dst, order.pop(src))
                pb = [pb[k] for k in order]
                new_index = [order.index(k) for k in range(len(order))]
        elif kind == "noisy":
            pb = [noisy(p, rng, boilerplate=0) or p for p in pb]
        elif kind == "+boiler":
            pb = FURNITURE_BEFORE + pb + FURNITURE_AFTER
            new_index = [k + len(FURNITURE_BEFORE) for k in new_index]
        new_b = "\n".join(pb) if kind == "lines" else _join(pb)
        if kind == "lines" and any("\n" in p for p in pb):
            continue  # a paragraph with line breaks inside cannot be written one per line
        mapped = {(i, new_index[j]) for i, j in gold if new_index[j] is not None}
        out.append((a, new_b, mapped))
    return out


def false_link_cases(articles: list[dict], n: int = 200) -> list[tuple[str, str, Pairs]]:
    """The ``n`` most TF-IDF-similar pairs of English articles of different documents."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    # one article per document (its first English variant), so each pair is two documents
    first: dict[str, dict] = {}
    for art in articles:
        first.setdefault(art["cluster"], art)
    docs = list(first.values())
    m = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform([d["text"] for d in docs])
    sim = (m @ m.T).toarray()
    np.fill_diagonal(sim, -1)
    iu = np.triu_indices(len(docs), 1)
    top = np.argsort(-sim[iu], kind="stable")[:n]
    return [(docs[iu[0][k]]["text"], docs[iu[1][k]]["text"], set()) for k in top]


def long_pair(articles: list[dict], paragraphs: int = 200) -> tuple[str, str]:
    """Two long variants: the paragraphs of two systems' translations of many documents, in turn."""
    by_doc: dict[str, list[dict]] = {}
    for art in articles:
        by_doc.setdefault(art["cluster"], []).append(art)
    pa: list[str] = []
    pb: list[str] = []
    for members in by_doc.values():
        if len(members) >= 2 and min(len(pa), len(pb)) < paragraphs:
            pa += split_paragraphs(members[0]["text"])
            pb += split_paragraphs(members[1]["text"])
    return _join(pa[:paragraphs]), _join(pb[:paragraphs])


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_DEV)
def main(data: Path) -> None:
    """Print link P/R/F1 per method and pair set, and the time to align 200 x 200 paragraphs."""
    articles = {a["id"]: a for a in load_wmt(None, data)}
    with gzip.open(data / "alignment.jsonl.gz", "rt", encoding="utf-8") as f:
        gold_rows = [json.loads(line) for line in f]
    same, cross, stories = [], [], []
    for row in gold_rows:
        case = (articles[row["a"]]["text"], articles[row["b"]]["text"], {tuple(x) for x in row["links"]})
        (same if row["lang_a"] == row["lang_b"] else cross).append(case)
        if row["lang_a"] == row["lang_b"]:
            stories.append(articles[row["a"]]["cluster"])
    english = [a for a in articles.values() if a["lang"] == "en"]
    sets = {"same-lang": same, "cross-lang": cross}
    for kind in ("+foreign", "-dropped", "moved", "+boiler", "lines", "noisy"):
        sets[kind] = stress(kind, same, stories, english)
    negatives = false_link_cases(english)

    # the baseline's threshold, chosen in hindsight on the same-language pairs
    best = max((prf(same, lambda a, b, t=t: greedy(a, b, t))["f1"], t) for t in np.arange(0.05, 0.55, 0.05))
    g_threshold = round(float(best[1]), 2)
    methods: dict[str, Aligner] = {
        f"greedy (threshold {g_threshold}, hindsight)": lambda a, b: greedy(a, b, g_threshold),
        "paragraph-DP": method(unit="paragraph"),
        "sentence-DP (default)": method(),
        "  similarity=tfidf (no auto: words across languages too)": method(similarity="tfidf"),
        "  similarity=fingerprint (on every pair)": method(similarity="fingerprint"),
        "  similarity=fuzz, threshold 0.5": method(similarity="fuzz", threshold=0.5),
        "  similarity=mix, threshold 0.3": method(similarity="mix", threshold=0.3),
        "  no attach (attach=1)": method(attach=1.0),
        "  no moved pass (move=2)": method(move=2.0),
        "  threshold 0.2": method(threshold=0.2),
        "  min_score 0 (keep weak links)": method(min_score=0.0),
    }
    results: dict[str, dict] = {}
    header = f"{'method':36} " + " ".join(f"{name:>10}" for name in sets) + f" {'cross-doc':>10} {'s':>6}"
    click.echo("link F1")
    click.echo(header)
    for name, aligner in methods.items():
        t0 = time.perf_counter()
        row = {s: prf(cases, aligner) for s, cases in sets.items()}
        cross_doc = sum(len(aligner(a, b)) for a, b, _ in negatives) / len(negatives)
        seconds = time.perf_counter() - t0
        results[name] = {"sets": row, "cross_doc_links_per_pair": round(cross_doc, 3)}
        results[name]["seconds"] = round(seconds, 1)
        cells = " ".join(f"{row[s]['f1']:>10.4f}" for s in sets)
        click.echo(f"{name:36} {cells} {cross_doc:>10.3f} {seconds:>6.1f}")

    click.echo("\nlink precision / recall / F1")
    columns = f"{'same-lang P':>11} {'R':>7} {'F1':>7} {'cross-lang P':>13} {'R':>7} {'F1':>7}"
    click.echo(f"{'method':36} {columns}")
    for name, res in results.items():
        cells = []
        for s, w in (("same-lang", 11), ("cross-lang", 13)):
            x = res["sets"][s]
            cells.append(f"{x['precision']:>{w}.4f} {x['recall']:>7.4f} {x['f1']:>7.4f}")
        click.echo(f"{name:36} {' '.join(cells)}")

    text_a, text_b = long_pair(english)
    na, nb = len(split_paragraphs(text_a)), len(split_paragraphs(text_b))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        result = align(text_a, text_b)
        times.append(time.perf_counter() - t0)
    timing = {
        "paragraphs": [na, nb],
        "sentences": [len(result.sentences_a), len(result.sentences_b)],
        "median_s": round(statistics.median(times), 3),
        "links": len(result.links),
    }
    click.echo(
        f"align() on {na} x {nb} paragraphs ({timing['sentences'][0]} x {timing['sentences'][1]} sentences): "
        f"median {timing['median_s']:.3f} s over 5 runs"
    )
    sizes = {s: len(cases) for s, cases in sets.items()} | {"false-link pairs": len(negatives)}
    path = save_json("alignment", {"pairs": sizes, "methods": results, "timing_200": timing})
    click.echo(f"saved {path}")


if __name__ == "__main__":
    main()
