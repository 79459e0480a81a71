"""MinHash signature throughput: dedup's signer against what users would pick instead.

On real articles (the English members of the WMT variants dev set), with dedup's
default shingles (normalised word 1-grams, English stop words dropped) and 128
permutations, it times, on one core:

    tokenise + shingle        dedup's normalisation alone (the floor of the rest)
    datasketch, naive loop    one MinHash per article, update() per shingle
    datasketch, bulk          MinHash.bulk over all articles
    rensa                     RMinHash per article (Rust), if installed (pip install newsdedup[bench])
    dedup Signer              Signer.sign_many over batches, shingles given (as strings)
    dedup Signer, hashes      Signer.sign_hashes: the permutations alone, shingles given as their
                              32-bit hashes (how the featuriser calls it)
    dedup, from text          tokenise + shingle + Signer.sign_many
    dedup featurise, N workers  everything a run keeps of an article (signature, document and
                              sentence term counts) via dedup.featurize.featurize_batches, on the
                              articles repeated --copies times, with 1 and 2 worker processes
                              (best of --repeat, pool start included)

and checks that dedup's signatures equal datasketch's, value for value, for
``MinHash(hashfunc=dedup.arrays.hashing.hash32)`` (on the first 300 articles: that hash in pure Python is
slow; the naive loop timed above uses datasketch's default SHA-1, as users would).

    python benchmarks/signatures.py [--articles 2000] [--repeat 3]   # table, saves results/signatures.json
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
from datasketch import MinHash
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import WMT_DEV, load_wmt, save_json  # noqa: E402

from dedup.arrays.hashing import hash32, term_ids  # noqa: E402
from dedup.featurize import featurize_batches  # noqa: E402
from dedup.sketch.minhash import Signer  # noqa: E402
from dedup.text.normalize import shingles, tokenize  # noqa: E402

STOPWORDS = frozenset(ENGLISH_STOP_WORDS)
NUM_PERM = 128
BATCH = 1_000


def shingle_sets(texts: list[str]) -> list[set[str]]:
    return [shingles(tokenize(t), stopwords=STOPWORDS) for t in texts]


def datasketch_naive(sets: list[set[str]]) -> np.ndarray:
    out = []
    for s in sets:
        m = MinHash(num_perm=NUM_PERM, seed=1)
        for sh in s:
            m.update(sh.encode("utf-8"))
        out.append(m.hashvalues)
    return np.array(out, dtype=np.uint32)


def datasketch_bulk(sets: list[set[str]]) -> np.ndarray:
    ms = MinHash.bulk([[sh.encode("utf-8") for sh in s] for s in sets], num_perm=NUM_PERM, seed=1)
    return np.array([m.hashvalues for m in ms], dtype=np.uint32)


def rensa_sign(sets: list[set[str]]) -> np.ndarray:
    from rensa import RMinHash

    out = []
    for s in sets:
        m = RMinHash(num_perm=NUM_PERM, seed=1)
        m.update(list(s))
        out.append(m.digest())
    return np.array(out, dtype=np.uint64)


def dedup_sign(sets: list[set[str]]) -> np.ndarray:
    signer = Signer(num_perm=NUM_PERM, seed=1)
    return np.concatenate([signer.sign_many(sets[lo : lo + BATCH]) for lo in range(0, len(sets), BATCH)])


def dedup_sign_hashes(hash_sets: list[np.ndarray]) -> np.ndarray:
    signer = Signer(num_perm=NUM_PERM, seed=1)
    return np.concatenate(
        [signer.sign_hashes(hash_sets[lo : lo + BATCH]) for lo in range(0, len(hash_sets), BATCH)]
    )


def datasketch_compatible(sets: list[set[str]]) -> np.ndarray:
    out = []
    for s in sets:
        m = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=hash32)
        m.update_batch([sh.encode("utf-8") for sh in s])
        out.append(m.hashvalues)
    return np.array(out, dtype=np.uint32)


def dedup_from_text(texts: list[str]) -> np.ndarray:
    signer = Signer(num_perm=NUM_PERM, seed=1)
    out = []
    for lo in range(0, len(texts), BATCH):
        out.append(signer.sign_many(shingle_sets(texts[lo : lo + BATCH])))
    return np.concatenate(out)


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


@click.command()
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=WMT_DEV)
@click.option("--articles", default=2_000, show_default=True, help="How many English articles to sign.")
@click.option("--repeat", default=3, show_default=True, help="Runs per method; the fastest counts.")
@click.option("--copies", default=30, show_default=True, help="Repeats of the articles for the worker rows.")
def main(data: Path, articles: int, repeat: int, copies: int) -> None:
    """Print docs/s per method and the ratio to datasketch's naive loop; save results/signatures.json."""
    texts = [a["text"] for a in load_wmt("en", data)][:articles]
    sets = shingle_sets(texts)
    n = len(texts)
    words = sum(len(t.split()) for t in texts) / n
    methods: dict[str, Callable[[], object]] = {
        "tokenise + shingle (dedup.text.normalize)": lambda: shingle_sets(texts),
        "datasketch, naive loop": lambda: datasketch_naive(sets),
        "datasketch, MinHash.bulk": lambda: datasketch_bulk(sets),
    }
    try:
        import rensa  # noqa: F401

        methods["rensa RMinHash"] = lambda: rensa_sign(sets)
    except ImportError:
        click.echo("rensa not installed (pip install 'newsdedup[bench]'): left out", err=True)
    methods["dedup Signer (shingles given)"] = lambda: dedup_sign(sets)
    hash_sets = [term_ids(list(s)).astype(np.uint32) for s in sets]
    methods["dedup Signer (hashes given)"] = lambda: dedup_sign_hashes(hash_sets)
    methods["dedup, from text (tokenise + sign)"] = lambda: dedup_from_text(texts)
    many = texts * copies
    main_cpu: dict[int, float] = {}

    def featurise(w: int) -> float:
        # as a run takes them in: packed batches (the main process unpacks nothing)
        c0 = time.process_time()
        for _ in featurize_batches(many, workers=w, in_process=0):
            pass
        main_cpu[w] = time.process_time() - c0
        return len(many) / copies

    for w in (1, 2):
        methods[f"dedup featurise, {w} worker{'s' if w > 1 else ''} (x{copies})"] = lambda w=w: featurise(w)

    results: dict[str, dict[str, float]] = {}
    outputs: dict[str, object] = {}
    for name, fn in methods.items():
        seconds, outputs[name] = best_of(fn, 1 if "naive" in name else repeat)
        docs = n * copies if "featurise" in name else n
        results[name] = {"seconds": round(seconds, 4), "docs_per_s": round(docs / seconds, 1)}
    naive = results["datasketch, naive loop"]["docs_per_s"]
    for r in results.values():
        r["x_naive"] = round(r["docs_per_s"] / naive, 2)

    reference = datasketch_compatible(sets[:300])
    compared = (
        "dedup Signer (shingles given)",
        "dedup Signer (hashes given)",
        "dedup, from text (tokenise + sign)",
    )
    same = all(np.array_equal(outputs[name][:300], reference) for name in compared)
    click.echo(f"{n:,} articles ({words:.0f} words on average), {NUM_PERM} permutations, one core")
    click.echo(f"{'method':40} {'docs/s':>10} {'x naive':>8}")
    for name, r in results.items():
        click.echo(f"{name:40} {r['docs_per_s']:>10,.0f} {r['x_naive']:>8.1f}")
    one_name, two_name = (k for k in results if "featurise" in k)
    one, two = results[one_name]["docs_per_s"], results[two_name]["docs_per_s"]
    results[two_name]["main_process_cpu_s"] = round(main_cpu[2], 3)
    click.echo(
        f"2 workers / 1 worker: {two / one:.2f}x (pool start included; on {os.cpu_count()} cores, "
        f"the main process used {main_cpu[2]:.2f} s of CPU: featurising while the pool started, "
        "sending texts, taking results in)"
    )
    click.echo(f"dedup signatures equal datasketch's MinHash(hashfunc=hash32): {same}")
    if not same:
        raise SystemExit("dedup's signatures differ from datasketch's")
    path = save_json(
        "signatures",
        {"articles": n, "mean_words": round(words, 1), "num_perm": NUM_PERM, "methods": results,
         "equal_to_datasketch": same},
    )  # fmt: skip
    click.echo(f"saved {path}")


if __name__ == "__main__":  # the worker processes import this file again: run only once
    main()
