"""Regenerate the pictures shown in README.md (notebooks/figures/*.png).

Run: python notebooks/make_figures.py [--notebooks]

The library's pictures (profiles, contour, comparisons) are drawn here. The pictures of the
six notebooks (``nb01_…png`` to ``nb06_…png``) are the notebooks' own outputs, exported by
``notebooks/execute.py`` when it executes them; ``--notebooks`` runs it too (about two
minutes).
"""

import sys
from pathlib import Path

import ppl_mle

HERE = Path(__file__).resolve().parent / "figures"
HEIGHTS = [160, 162, 165, 167, 170, 172, 175, 177, 180, 182]
LABELS = list("aabbbbccccccccc")


def main(argv: list[str]) -> int:
    HERE.mkdir(exist_ok=True)
    heights = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))
    ppl_mle.inference.plots.plot_profiles(heights, HERE / "profiles_heights.png")
    ppl_mle.plot_loglik_contour(heights, HERE / "contour_heights.png")
    normal = ppl_mle.compare_bayes(heights, random_seed=1, profile=True)
    ppl_mle.plot_comparison(normal, HERE / "compare_heights.png")
    cats = ppl_mle.categorical(LABELS, categories=list("abcd"))
    ppl_mle.plot_comparison(
        ppl_mle.compare_bayes(cats, random_seed=2, profile=True), HERE / "compare_categories.png"
    )
    print(normal)
    if "--notebooks" in argv:
        import execute  # notebooks/execute.py, beside this script

        return execute.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
