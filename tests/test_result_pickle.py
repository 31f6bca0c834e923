"""Results pickle, and an unpickled result answers exactly as the original.

``pickle`` is what ``multiprocessing``, joblib and Dask use to move a result between
processes. The reference is the original result itself: estimates, standard errors,
intervals and tables of the unpickled one must be equal to the last bit, in this process
and in a fresh interpreter (which has none of this one's compiled functions or caches).
A result carries no compiled PyTensor function: they are compiled again when used.
"""

import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pymc as pm
import pytest

import ppl_mle
from ppl_mle import FitStatus, GroupedResult, MLEResult

X = np.random.default_rng(20240612).normal(5.0, 2.0, 40)
GROUPS = np.repeat(["a", "b"], 20)
LABELS = ["a", "b", "a", "a", "b"]


def _user_model():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        sigma = pm.HalfNormal("sigma", 5.0)
        pm.Deterministic("cv", sigma / mu)
        pm.Normal("y", mu, sigma, observed=X)
    return model


def _on_bound_model():
    with pm.Model() as model:
        p = pm.Beta("p", 1.0, 1.0)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Binomial("k", n=10, p=p, observed=np.array([10, 10, 10]))
        pm.Normal("y", mu, 1.0, observed=X)
        pm.Deterministic("shift", mu + p)
    return model


@pytest.fixture(scope="module")
def fits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ppl_mle.BoundaryWarning)
        on_bound = ppl_mle.fit_mle(_on_bound_model())
    return {
        "normal": ppl_mle.fit_mle(ppl_mle.normal(X)),
        # "c" is never seen: its probability is 0, the others fitted on their own.
        "categorical": ppl_mle.fit_mle(ppl_mle.categorical(LABELS, categories=["a", "b", "c"])),
        "grouped": ppl_mle.fit_mle(ppl_mle.normal(X, groups=GROUPS)),
        "pymc": ppl_mle.fit_mle(_user_model()),
        "on_bound": on_bound,
    }


def answers(result):
    """What a result answers, as pandas objects, to compare exactly."""
    if isinstance(result, GroupedResult):
        return {
            "table": result.to_dataframe(),
            "by_group": result.by_group(),
            "lr_mu": pd.Series(
                {k: getattr(result.lr_test("mu"), k) for k in ("statistic", "df", "pvalue")}
            ),
        }
    return {
        "params": result.params,
        "se": result.bse,
        "profile": result.conf_int(),
        "wald": result.conf_int(method="wald"),
        "summary": result.summary(),
        "derived": result.derived(),
    }


def assert_same(found, expected):
    assert found.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(found[key], value, check_exact=True)
        else:
            pd.testing.assert_series_equal(found[key], value, check_exact=True)


def test_the_fits_are_of_each_kind(fits):
    assert isinstance(fits["grouped"], GroupedResult)
    assert fits["on_bound"].status is FitStatus.BOUNDARY
    assert fits["categorical"].estimates_frame()["on_boundary"].tolist() == [False, False, True]
    assert all(r.converged for r in fits.values())


@pytest.mark.parametrize("kind", ["normal", "categorical", "grouped", "pymc", "on_bound"])
def test_round_trip_answers_exactly(fits, kind):
    result = fits[kind]
    payload = pickle.dumps(result)
    assert b"_constructor_Function" not in payload  # no compiled PyTensor function
    copy = pickle.loads(payload)
    assert type(copy) is type(result) and copy is not result
    assert_same(answers(copy), answers(result))
    assert copy.message == result.message and copy.status is result.status
    for name, value in result.estimates.items():
        np.testing.assert_array_equal(copy.estimates[name], value)
    # Frozen again, as the original.
    with pytest.raises(TypeError, match="read-only"):
        copy.estimates["x"] = 1.0
    assert not any(np.asarray(v).flags.writeable for v in copy.estimates.values())


def test_pickled_again_before_any_use(fits):
    twice = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(fits["on_bound"]))))
    assert "objective" not in vars(twice)  # built on first use only
    assert_same(answers(twice), answers(fits["on_bound"]))
    assert twice.objective.size == fits["on_bound"].objective.size == 1


def test_laplace_draws_and_inference_data_after_unpickling(fits):
    result = fits["pymc"]
    copy = pickle.loads(pickle.dumps(result))
    a = result.to_inference_data(laplace=50, random_seed=5).posterior
    b = copy.to_inference_data(laplace=50, random_seed=5).posterior
    np.testing.assert_array_equal(a["mu"].values, b["mu"].values)
    np.testing.assert_array_equal(a["sigma"].values, b["sigma"].values)


def test_fresh_interpreter_answers_exactly(fits, tmp_path):
    # A fresh interpreter unpickles the results and computes what they answer.
    results, answered = tmp_path / "results.pkl", tmp_path / "answers.pkl"
    results.write_bytes(pickle.dumps(fits))
    code = f"""
        import pickle
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_result_pickle import answers
        with open({str(results)!r}, "rb") as f:
            fits = pickle.load(f)
        out = {{kind: answers(result) for kind, result in fits.items()}}
        with open({str(answered)!r}, "wb") as f:
            pickle.dump(out, f)
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    found = pickle.loads(answered.read_bytes())
    assert found.keys() == fits.keys()
    for kind, result in fits.items():
        assert_same(found[kind], answers(result))


def test_data_replaced_before_pickling_is_still_refused():
    model = ppl_mle.normal(X)
    result = ppl_mle.fit_mle(model)
    before = pickle.dumps(result)
    model.replace_data(X + 1.0)
    after = pickle.loads(pickle.dumps(result))
    with pytest.raises(ppl_mle.ModelError, match="data were replaced"):
        after.summary()
    # Pickled before the data changed: the copy holds the data of its fit.
    copy = pickle.loads(before)
    assert copy.bse["mu"] == pytest.approx(X.std() / np.sqrt(X.size), rel=1e-9)


def test_pm_data_replaced_before_pickling_is_still_refused():
    with pm.Model() as model:
        data = pm.Data("data", X)
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.Normal("y", mu, 2.0, observed=data)
    result = ppl_mle.fit_mle(model)
    intact = pickle.loads(pickle.dumps(result))
    assert intact.bse["mu"] == pytest.approx(2.0 / np.sqrt(X.size), rel=1e-9)
    pm.set_data({"data": X + 1.0}, model=model)
    stale = pickle.loads(pickle.dumps(result))
    with pytest.raises(ppl_mle.ModelError, match="data were replaced"):
        _ = stale.bse


def test_a_result_is_an_mle_result_after_unpickling(fits):
    copy = pickle.loads(pickle.dumps(fits["normal"]))
    assert isinstance(copy, MLEResult)
    assert copy.check_analytic().passed
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        copy.nonexistent  # noqa: B018
