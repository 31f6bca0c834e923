"""Draw docs/figures/forest_heights.png: the MLE (Laplace draws) beside NUTS, by az.plot_forest.

Run: .venv/bin/python docs/make_forest.py
"""

from pathlib import Path

import arviz as az
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pymc as pm

import ppl_mle

HEIGHTS = [160, 162, 165, 167, 170, 172, 175, 177, 180, 182]


def main() -> None:
    """Fit and sample the heights, and draw the forest plot."""
    with pm.Model():
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", mu, sigma, observed=HEIGHTS)
        fit = ppl_mle.fit_mle()
        nuts = pm.sample(chains=4, random_seed=1, progressbar=False)
    mle = fit.to_inference_data(laplace=1000, random_seed=1)
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.6))
    for ax, name in zip(axes, ("mu", "sigma"), strict=True):
        az.plot_forest(
            [nuts, mle],
            model_names=["NUTS", "MLE (Laplace)"],
            var_names=[name],
            combined=True,
            hdi_prob=0.95,
            ax=ax,
        )
        ax.set_title(name)
    fig.suptitle("heights: the NUTS posterior and the MLE's Laplace approximation (95%)")
    fig.tight_layout()
    target = Path(__file__).resolve().parent / "figures" / "forest_heights.png"
    fig.savefig(target, dpi=110, bbox_inches="tight")
    print(target)


if __name__ == "__main__":
    main()
