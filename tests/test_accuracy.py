"""Data far from zero: NIST StRD univariate datasets and generated large-offset data.

Agreement is measured against an exact rational computation on the float64 values (12
significant digits required). Agreement with NIST's certified values (for the decimal data)
is reported as information.
"""

import json

import numpy as np
import pytest
from conftest import NIST_DIR, exact_mean_sd, nist_cases, significant_digits

import ppl_mle


def numacc(offset: float, n_pairs: int = 500) -> np.ndarray:
    """NumAcc-style data: offset + 0.2, then pairs offset + 0.1 and offset + 0.3."""
    return np.r_[offset + 0.2, np.tile([offset + 0.1, offset + 0.3], n_pairs)]


@pytest.mark.parametrize("offset", [1e6, 1e7])
@pytest.mark.parametrize("method", ["L-BFGS-B", "Nelder-Mead"])
def test_large_offset_twelve_digits(offset, method):
    x = numacc(offset)
    assert x.size == 1001
    result = ppl_mle.fit_mle(ppl_mle.normal(x), method=method)
    mean, sd = exact_mean_sd(x)
    assert result.converged, result.message
    assert significant_digits(result.estimates["mu"], mean) >= 12
    assert significant_digits(result.estimates["sigma"], sd) >= 12


def test_find_map_alone_is_wrong_where_fit_mle_is_right():
    """The failure fit_mle exists for: plain find_MAP reports success far from the MLE."""
    import pymc as pm

    x = numacc(1e7)
    with pm.Model() as model:
        mu = pm.Flat("mu")
        sigma = pm.HalfFlat("sigma")
        pm.Normal("x", mu, sigma, observed=x)
    point, raw = pm.find_MAP(model=model, progressbar=False, return_raw=True)
    assert raw.success
    assert abs(float(point["mu"]) - 1e7) > 1e6  # wrong by orders of magnitude
    # The same PyMC model, with no family to suggest a start: fit_mle starts where find_MAP
    # does, finds the same point, refuses it (not a maximum), and takes the second look
    # with a Newton-type method from there.
    ours = ppl_mle.fit_mle(model)
    assert ours.converged, ours.message
    assert "not a maximum" in ours.message and "The second look" in ours.message
    mean, sd = exact_mean_sd(x)
    assert significant_digits(ours.estimates["mu"], mean) >= 12
    assert significant_digits(ours.estimates["sigma"], sd) >= 12
    declared = ppl_mle.fit_mle(ppl_mle.normal(x))
    assert declared.converged
    assert significant_digits(declared.estimates["sigma"], sd) >= 12


@pytest.mark.skipif(not nist_cases(), reason="../shared/reference/nist is not beside this clone")
@pytest.mark.parametrize("name", nist_cases() or ["none"])
def test_nist_strd(name, record_property):
    certified = json.loads((NIST_DIR / "certified.json").read_text())[name]
    x = np.loadtxt(NIST_DIR / certified["data_file"], ndmin=1)
    assert x.size == certified["n"]
    result = ppl_mle.fit_mle(ppl_mle.normal(x))
    mean, sd = exact_mean_sd(x)
    assert result.converged, result.message
    digits_mu = significant_digits(result.estimates["mu"], mean)
    digits_sd = significant_digits(result.estimates["sigma"], sd)
    assert digits_mu >= 12, digits_mu
    assert digits_sd >= 12, digits_sd
    # Information: LRE against NIST's certified values for the decimal data.
    from fractions import Fraction

    n = certified["n"]
    cert_sd_mle = float(Fraction(certified["sd_text"])) * np.sqrt((n - 1) / n)
    lre_mean = significant_digits(result.estimates["mu"], Fraction(certified["mean_text"]))
    lre_sd = significant_digits(result.estimates["sigma"], cert_sd_mle)
    record_property("lre_mean_vs_certified", round(lre_mean, 1))
    record_property("lre_sd_vs_certified", round(lre_sd, 1))
    print(f"{name}: LRE vs certified mean {lre_mean:.1f}, sd {lre_sd:.1f}")
    assert lre_mean >= 7 and lre_sd >= 7
