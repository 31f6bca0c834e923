"""Every warning of ppl_mle points at the user's line, whichever function raised it.

Warnings are issued with ``stacklevel=find_stack_level()`` (as numpyro does): the frames
inside the ppl_mle package are skipped, so ``warning.filename`` and ``warning.lineno`` are
this file's line that called the public function, however deep the warning was raised.
"""

import inspect
import warnings
from pathlib import Path

import numpy as np
import pymc as pm
import pytest

import ppl_mle
from ppl_mle.core.errors import find_stack_level

HERE = Path(__file__).resolve()
SMALL = np.array([1.2, 0.7, 2.9, 1.8, 2.2, 0.4, 1.5])


def _next_line() -> int:
    """The number of the line after the caller's."""
    return inspect.currentframe().f_back.f_lineno + 1


def _assert_points_here(caught, category, lineno):
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__} among {[w.category.__name__ for w in caught]}"
    for w in found:
        assert Path(w.filename).resolve() == HERE, (w.filename, str(w.message))
        assert w.lineno == lineno, (w.lineno, str(w.message))


def test_find_stack_level_outside_the_package_is_one():
    # Called from here (not inside ppl_mle): only its own frame is in the package.
    assert find_stack_level() == 1


def test_convergence_warning_from_fit_mle():
    model = ppl_mle.normal(SMALL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        result = ppl_mle.fit_mle(model, maxeval=2, polish=False)
    assert not result.converged
    _assert_points_here(caught, ppl_mle.ConvergenceWarning, line)


def test_identifiability_warning_from_summary():
    # a + b is identified, a and b are not: the fit warns, and so does its summary.
    with pm.Model() as model:
        a = pm.Flat("a")
        b = pm.Flat("b")
        pm.Normal("y", a + b, 1.0, observed=SMALL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        result = ppl_mle.fit_mle(model)
    _assert_points_here(caught, ppl_mle.ConvergenceWarning, line)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        result.summary()
    _assert_points_here(caught, ppl_mle.IdentifiabilityWarning, line)


def test_precision_warning_from_fit_mle():
    x = np.array([1e16, 1e16 + 2, 1e16 + 4, 1e16 + 8])
    with pytest.warns(ppl_mle.PrecisionWarning) as caught:
        line = _next_line()
        ppl_mle.fit_mle(ppl_mle.normal(x))
    _assert_points_here(caught.list, ppl_mle.PrecisionWarning, line)


def test_likelihood_ratio_warning_about_an_unverified_fit():
    # sd fixed far from the data's: the restricted fit is far below even an unverified full one.
    restricted = ppl_mle.fit_mle(ppl_mle.normal(SMALL, sigma=10.0))
    with pytest.warns(ppl_mle.ConvergenceWarning):
        full = ppl_mle.fit_mle(ppl_mle.normal(SMALL), maxeval=2, polish=False)
    assert not full.converged
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _next_line()
        test = ppl_mle.lr_test(restricted, full)
    assert test.df == 1
    _assert_points_here(caught, ppl_mle.ConvergenceWarning, line)
