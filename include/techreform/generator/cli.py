"""``techreform-generate``: write the sample province (landing files and ground truth) to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import FILE_FORMATS, NATIONAL_ENTERPRISES, GeneratorConfig


def _parser() -> argparse.ArgumentParser:
    d = GeneratorConfig()
    p = argparse.ArgumentParser(
        prog="techreform-generate",
        description="Write realistic monthly deliveries of Gansu's technical-transformation programme "
        "(forms R1, S1, E1, P1, A1, Q1, G1) with planted defects and lagging projects, and the ground truth "
        "beside them: OUT/landing/<form>/<YYYY-MM>/… and OUT/ground_truth/. Deterministic for a seed.",
        epilog="Example: techreform-generate --out /tmp/province --enterprises 150 --projects 60 "
        "--first-period 2012-10 --last-period 2013-03",
    )
    p.add_argument(
        "--out", type=Path, required=True, help="output folder (its landing/ and ground_truth/ are replaced)"
    )
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument(
        "--size",
        choices=("province", "national"),
        default="province",
        help=f"province = the sample province; national = {NATIONAL_ENTERPRISES:,} enterprises, "
        "form E1, one month unless --forms/--first-period/--last-period say otherwise (benchmarks)",
    )
    p.add_argument("--enterprises", type=int, default=None, help=f"above-scale enterprises (default {d.enterprises})")
    p.add_argument(
        "--projects", type=int, default=d.projects, help=f"projects under supervision (default {d.projects})"
    )
    n = GeneratorConfig.national()
    p.add_argument(
        "--first-period",
        default=None,
        help=f"first report month YYYY-MM (default {d.first_period}; national: {n.first_period})",
    )
    p.add_argument(
        "--last-period",
        default=None,
        help=f"last report month YYYY-MM (default {d.last_period}; national: {n.last_period})",
    )
    p.add_argument(
        "--forms",
        default=None,
        help=f"comma-separated forms to write (default {','.join(d.forms)}; national: {','.join(n.forms)})",
    )
    p.add_argument(
        "--defect-rate",
        type=float,
        default=d.defect_rate,
        help=f"share of rows given a planted defect (default {d.defect_rate}); 0 = clean data",
    )
    p.add_argument(
        "--lagging-share",
        type=float,
        default=d.lagging_share,
        help=f"share of projects planted as laggards (default {d.lagging_share})",
    )
    p.add_argument(
        "--skip-january-share",
        type=float,
        default=d.skip_january_share,
        help=f"share of enterprises skipping the optional January report (default {d.skip_january_share})",
    )
    p.add_argument(
        "--quirk-share",
        type=float,
        default=d.quirk_share,
        help=f"share of cells written with harmless quirks (default {d.quirk_share})",
    )
    p.add_argument(
        "--formats",
        default=None,
        help="file formats with weights, e.g. 'csv-utf8=1,xlsx=1' (known: " + ", ".join(FILE_FORMATS) + ")",
    )
    return p


def _formats(text: str) -> tuple[tuple[str, float], ...]:
    out = []
    for part in text.split(","):
        name, _, weight = part.strip().partition("=")
        out.append((name.strip(), float(weight) if weight else 1.0))
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``techreform-generate``; returns the exit status."""
    args = _parser().parse_args(argv)
    from .core import generate

    base = GeneratorConfig.national() if args.size == "national" else GeneratorConfig()
    options = dict(
        seed=args.seed,
        projects=args.projects,
        first_period=args.first_period or base.first_period,
        last_period=args.last_period or base.last_period,
        forms=tuple(f.strip() for f in args.forms.split(",") if f.strip()) if args.forms else base.forms,
        defect_rate=args.defect_rate,
        lagging_share=args.lagging_share,
        skip_january_share=args.skip_january_share,
        quirk_share=args.quirk_share,
        enterprises=args.enterprises or base.enterprises,
    )
    if args.formats:
        options["file_formats"] = _formats(args.formats)
    try:
        config = GeneratorConfig(**options)
    except ValueError as exc:
        print(f"techreform-generate: {exc}", file=sys.stderr)
        return 2
    summary = generate(args.out, config)
    rows = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.rows.items()))
    defects = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.defects.items())) or "none"
    lights = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.lights.items())) or "none"
    print(f"wrote {summary.files:,} files under {summary.landing_dir} in {summary.seconds:.1f} s")
    print(f"rows: {rows}; planted defects: {defects}; lights: {lights}")
    print(f"ground truth: {summary.ground_truth_dir}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
