"""Command line: a thin layer over the library (parse options, read, call, write, print)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import click

from dedup.article import InputError
from dedup.params import LINKAGES, REPRESENTATIVES, SHINGLE_UNITS, STOPWORD_LISTS, TFIDF_ANALYZERS, Params
from dedup.pipeline import Detector, Result, no_progress
from dedup.progress import terminal_progress, wants_progress

_DEFAULTS = Params()


def _ngrams(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        lo, _, hi = value.partition(",")
        return int(lo), int(hi or lo)
    except ValueError:
        raise click.BadParameter(f"expected MIN,MAX such as 1,2; got {value!r}") from None


def _with_options(f, options: list) -> Any:
    """Apply click options to ``f`` so that they are listed in the order given."""
    for option in reversed(options):
        f = option(f)
    return f


def param_options(f):
    """The detection parameters, one option each (see ``dedup.Params``)."""
    d = _DEFAULTS
    options = [
        click.option(
            "--shingle-unit",
            type=click.Choice(SHINGLE_UNITS),
            default=d.shingle_unit,
            show_default=True,
            help="Shingles for MinHash: word or character n-grams.",
        ),
        click.option(
            "--shingle-size",
            type=int,
            default=d.shingle_size,
            show_default=True,
            help="Shingle length in words/characters. 1 word finds MT variants; 5 only near-copies.",
        ),
        click.option(
            "--stopwords",
            type=click.Choice(STOPWORD_LISTS),
            default=d.stopwords,
            show_default=True,
            help="Drop English stop words from the shingles (fewer chance candidates).",
        ),
        click.option(
            "--transliterate/--no-transliterate",
            default=d.transliterate,
            show_default=True,
            help="Fold text to ASCII before tokenising (needs dedup[translit]).",
        ),
        click.option(
            "--num-perm",
            type=int,
            default=d.num_perm,
            show_default=True,
            help="MinHash signature length; more is more accurate and slower.",
        ),
        click.option("--seed", type=int, default=d.seed, show_default=True, help="MinHash permutation seed."),
        click.option(
            "--lsh-threshold",
            type=float,
            default=d.lsh_threshold,
            show_default=True,
            help="Shingle Jaccard similarity the LSH aims at; lower finds more candidates (recall), "
            "higher fewer (speed).",
        ),
        click.option(
            "--bands", type=int, default=None, help="LSH bands (with --rows; overrides --lsh-threshold)."
        ),
        click.option("--rows", type=int, default=None, help="LSH rows per band (with --bands)."),
        click.option(
            "--max-bucket",
            type=int,
            default=d.max_bucket,
            show_default=True,
            help="LSH buckets larger than this are only chained, not expanded into all pairs.",
        ),
        click.option(
            "--tfidf-analyzer",
            type=click.Choice(TFIDF_ANALYZERS),
            default=d.tfidf_analyzer,
            show_default=True,
            help="TF-IDF features: words or characters within words.",
        ),
        click.option(
            "--tfidf-ngrams",
            callback=_ngrams,
            default=",".join(map(str, d.tfidf_ngrams)),
            show_default=True,
            help="TF-IDF n-gram range as MIN,MAX.",
        ),
        click.option(
            "--sublinear-tf/--no-sublinear-tf",
            default=d.sublinear_tf,
            show_default=True,
            help="Use 1 + log(tf) so repeated words count less.",
        ),
        click.option(
            "--sentence-weight",
            type=float,
            default=d.sentence_weight,
            show_default=True,
            help="Weight of the sentence match in the score (the rest is the document cosine): how much "
            "of the smaller article is said, sentence by sentence, in the other. 0: cosine alone (faster).",
        ),
        click.option(
            "--threshold",
            type=float,
            default=d.threshold,
            show_default=True,
            help="Score at or above which two articles are duplicates. Lower for recall "
            "(short, noisy texts), higher for precision.",
        ),
        click.option(
            "--linkage",
            type=click.Choice(LINKAGES),
            default=d.linkage,
            show_default=True,
            help="Clustering inside connected components: average stops one borderline pair "
            "from chaining two stories; single keeps plain components.",
        ),
        click.option(
            "--representative",
            type=click.Choice(REPRESENTATIVES),
            default=d.representative,
            show_default=True,
            help="Which member of a cluster the deduplicated output keeps.",
        ),
    ]
    return _with_options(f, options)


_PARAM_NAMES = [field.name for field in dataclasses.fields(Params)]


def params_from(options: dict[str, Any]) -> Params:
    """Build Params from CLI options, turning a validation error into a usage error."""
    try:
        return Params(**{k: options.pop(k) for k in _PARAM_NAMES})
    except ValueError as err:
        raise click.UsageError(str(err)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dedup")
def main() -> None:
    """Find rewrites and machine-translation variants of news articles."""


def input_options(f):
    """Options that say how to read the inputs."""
    options = [
        click.option(
            "--format",
            "input_format",
            type=click.Choice(["jsonl", "csv", "txt"]),
            default=None,
            help="Input format (default: from each file's extension; a folder is .txt files).",
        ),
        click.option("--id-field", default="id", show_default=True, help="JSONL/CSV field holding the id."),
        click.option(
            "--text-field", default="text", show_default=True, help="JSONL/CSV field holding the text."
        ),
        click.option(
            "--skip-bad",
            is_flag=True,
            help="Warn about bad records and go on (counted in the summary) instead of stopping.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary on stderr."),
    ]
    return _with_options(f, options)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for pairs.jsonl, clusters.jsonl, deduplicated.<format> and summary.json.",
)
@input_options
@param_options
def run(
    inputs: tuple[str, ...],
    out_dir: Path,
    input_format: str | None,
    id_field: str,
    text_field: str,
    skip_bad: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Find duplicate articles in INPUTS and write the results to --out.

    INPUTS are folders of .txt files (id = file name), .jsonl or .csv files
    (optionally .gz), or - for JSONL on stdin.
    """
    from dedup.read import Inputs
    from dedup.write import write_deduplicated, write_json, write_jsonl

    params = params_from(options)
    show = wants_progress(quiet)
    progress = terminal_progress if show else no_progress
    warnings: list[str] = []

    def on_bad(err: InputError) -> None:
        warnings.append(str(err))
        if not quiet:
            click.echo(f"warning: skipped {err}", err=True)

    started = time.perf_counter()
    try:
        with Inputs(inputs, id_field=id_field, text_field=text_field, input_format=input_format) as source:
            detector = Detector(params, progress=progress)
            with progress("read+sign", None) as bar:
                for article in source.articles(on_bad if skip_bad else None):
                    detector.add(article)
                    bar.update(1)
            detector.skipped = len(warnings)
            if len(detector) == 0:
                raise click.ClickException("no article could be read from the inputs")
            result = detector.finish()
            t0 = time.perf_counter()
            out_dir.mkdir(parents=True, exist_ok=True)
            write_jsonl(out_dir / "pairs.jsonl", (p.to_dict() for p in result.pairs))
            write_jsonl(out_dir / "clusters.jsonl", (c.to_dict() for c in result.clusters))
            dedup_path = write_deduplicated(source, out_dir, result.duplicates, on_bad=(lambda e: None))
            result.summary["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
            result.summary["timings_s"]["total"] = round(time.perf_counter() - started, 3)
            result.summary["inputs"] = list(inputs)
            result.summary["input_format"] = source.format
            result.summary["warnings"] = warnings[:1000]
            result.summary["outputs"] = {
                "pairs": "pairs.jsonl", "clusters": "clusters.jsonl",
                "deduplicated": dedup_path.name, "summary": "summary.json",
            }  # fmt: skip
            write_json(out_dir / "summary.json", result.summary)
    except InputError as err:
        raise click.ClickException(f"{err} (nothing written; --skip-bad skips bad records)") from None
    except OSError as err:  # the output side: a full disk, a read-only folder
        where = err.filename or out_dir
        raise click.ClickException(f"{where}: cannot write: {err.strerror or err}") from None
    if not quiet:
        print_summary(result, out_dir)


def print_summary(result: Result, out_dir: Path, limit: int = 20) -> None:
    """The human summary on stderr: counts, then the clusters found."""
    s = result.summary
    a = s["articles"]
    echo = click.echo
    echo(
        f"read {a['read']:,} articles: kept {a['kept']:,}, removed as duplicates "
        f"{a['removed_as_duplicates']:,}, skipped as bad input {a['skipped_bad_input']:,}",
        err=True,
    )
    c = s["candidates"]
    echo(
        f"{s['clusters']:,} cluster{'' if s['clusters'] == 1 else 's'} from {c['verified_pairs']:,} verified"
        f" of {c['pairs']:,} candidate pairs"
        f" ({s['timings_s'].get('total', 0):.1f} s)",
        err=True,
    )
    score = {(p.a, p.b): p.score for p in result.pairs}
    for cl in result.clusters[:limit]:
        others = []
        for m in cl.duplicates[:5]:
            key = (min(m, cl.representative), max(m, cl.representative))
            others.append(f"{m} (score {score[key]:.2f})" if key in score else m)
        if len(cl.duplicates) > 5:
            others.append(f"and {len(cl.duplicates) - 5} more")
        echo(f"  cluster {cl.cluster}: keep {cl.representative}; duplicates: {', '.join(others)}", err=True)
    if len(result.clusters) > limit:
        echo(f"  ... {len(result.clusters) - limit:,} more in {out_dir / 'clusters.jsonl'}", err=True)
    echo(f"results in {out_dir}/", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
