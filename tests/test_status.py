"""A fit's outcome is a FitStatus, decided on types, never by reading a message."""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytest
from conftest import HEIGHTS

import ppl_mle
from ppl_mle import FitStatus
from ppl_mle.core.families import SoftmaxFamily
from ppl_mle.fit import verify
from ppl_mle.fit.verify import information_verdict

#: Seeds of the data sets below, named so that a failure can be reproduced.
SEPARATION_SEED = 0
SINGULAR_SEED = 2


def separated_data() -> tuple[np.ndarray, np.ndarray]:
    """Class "a" is exactly the observations with x₀ > 1: separated (as in test_softmax)."""
    rng = np.random.default_rng(SEPARATION_SEED)
    x = rng.normal(size=(60, 2))
    y = np.where(x[:, 0] > 1.0, "a", np.where(rng.random(60) > 0.5, "b", "c"))
    return x, y


def logistic_separated_model() -> pm.Model:
    """A logistic regression on separated data, with no family to diagnose it."""
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    with pm.Model() as model:
        b = pm.Flat("b")
        pm.Bernoulli("y", logit_p=b * x, observed=np.array([0, 0, 1, 1]))
    return model


def redundant_model() -> pm.Model:
    """Only a + b is identified."""
    y = np.random.default_rng(SINGULAR_SEED).normal(1.0, 1.0, 30)
    with pm.Model() as model:
        a = pm.Flat("a")
        b = pm.Flat("b")
        pm.Normal("y", a + b, 1.0, observed=y)
    return model


@pytest.fixture(scope="module")
def verified() -> ppl_mle.MLEResult:
    return ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))


@pytest.fixture(scope="module")
def boundary() -> ppl_mle.MLEResult:
    return ppl_mle.fit_mle(ppl_mle.categorical(["a", "a", "b"], categories=["a", "b", "c"]))


@pytest.fixture(scope="module")
def vertex() -> ppl_mle.MLEResult:
    return ppl_mle.fit_mle(ppl_mle.categorical(["a", "a", "a"], categories=["a", "b", "c"]))


@pytest.fixture(scope="module")
def not_converged() -> ppl_mle.MLEResult:
    with pytest.warns(ppl_mle.ConvergenceWarning, match="maximum is still"):
        return ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), maxeval=2, polish=False)


@pytest.fixture(scope="module")
def separated() -> ppl_mle.MLEResult:
    x, y = separated_data()
    with pytest.warns(ppl_mle.ConvergenceWarning, match="separated"):
        return ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y))


def test_members_and_which_count_as_converged():
    converged = {s for s in FitStatus if s.converged}
    assert converged == {FitStatus.VERIFIED, FitStatus.BOUNDARY, FitStatus.DATA_BOUND}
    assert {s for s in FitStatus if s.no_mle} == {FitStatus.SEPARATED, FitStatus.UNBOUNDED}
    assert all(isinstance(s.value, str) for s in FitStatus)
    assert ppl_mle.FitStatus is FitStatus and "FitStatus" in ppl_mle.__all__


def test_a_regular_fit_is_verified(verified):
    assert verified.status is FitStatus.VERIFIED
    assert verified.converged
    assert verified.message.startswith("Verified maximum: Hessian negative definite")
    assert verified.to_dict()["status"] == "verified"


def test_a_category_never_observed_is_boundary(boundary):
    assert boundary.status is FitStatus.BOUNDARY
    assert boundary.converged
    assert boundary.message.startswith("Verified maximum")
    assert boundary.message.endswith(
        "Categories ['c'] were never observed: their MLE is exactly 0, on the boundary of "
        "the simplex."
    )
    assert boundary.to_dict()["status"] == "boundary"


def test_every_observation_in_one_category_is_boundary_at_a_vertex(vertex):
    assert vertex.status is FitStatus.BOUNDARY
    assert vertex.converged
    assert vertex.message.startswith(
        "Every observation is 'a': the MLE is the vertex theta['a'] = 1 exactly"
    )
    assert vertex.polish_steps == 0 and vertex.newton_step_se == 0.0


def test_maxeval_exhausted_without_polish_is_not_converged(not_converged):
    assert not_converged.status is FitStatus.NOT_CONVERGED
    assert not not_converged.converged
    assert not_converged.message.startswith("Cannot vouch for this estimate: the maximum is still ")
    assert "(tolerance 0.0001); try another method, a larger maxeval or polish=True." in (
        not_converged.message
    )
    assert "find_MAP stopped after maxeval=2 evaluations" in not_converged.message


def test_maxeval_exhausted_raises_with_the_same_message():
    with pytest.raises(ppl_mle.ConvergenceError, match="maximum is still"):
        ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS), maxeval=2, polish=False, on_failure="raise")


def test_separated_classes_are_separated(separated):
    assert separated.status is FitStatus.SEPARATED
    assert not separated.converged
    assert separated.message.startswith(
        "Cannot vouch for this estimate: the classes are (quasi-)separated by the features"
    )
    assert "the MLE does not exist" in separated.message


def test_an_unbounded_likelihood_is_unbounded():
    with pytest.warns(ppl_mle.ConvergenceWarning, match="keeps rising along"):
        result = ppl_mle.fit_mle(logistic_separated_model())
    assert result.status is FitStatus.UNBOUNDED
    assert not result.converged
    with pytest.warns(ppl_mle.ConvergenceWarning, match="No standard errors: the fit was not"):
        table = result.summary()
    assert (table["note"] == "fit not verified: no SE").all()


def test_a_redundant_parameter_is_not_identified():
    with pytest.warns(ppl_mle.ConvergenceWarning, match="not identified"):
        result = ppl_mle.fit_mle(redundant_model())
    assert result.status is FitStatus.NOT_IDENTIFIED
    assert not result.converged


def test_information_verdict_tells_flat_from_curving_upward():
    names = ["a", "b"]
    status, text = information_verdict(names, np.array([[-1.0, -1.0], [-1.0, -1.0]]))
    assert status is FitStatus.NOT_IDENTIFIED and "singular" in text
    status, text = information_verdict(names, np.array([[-1.0, 0.0], [0.0, 1.0]]))
    assert status is FitStatus.NOT_A_MAXIMUM and "not positive definite" in text
    assert information_verdict(names, -np.eye(2)) == (None, "")


def test_status_must_agree_with_converged(verified):
    with pytest.raises(ValueError, match="contradicts"):
        dataclasses.replace(verified, converged=False)
    copy = dataclasses.replace(verified, converged=False, status=FitStatus.NOT_CONVERGED)
    assert copy.status is FitStatus.NOT_CONVERGED


def test_a_contradiction_of_the_closed_form_is_its_own_status(monkeypatch):
    monkeypatch.setattr(
        "ppl_mle.api.fit_mle.closed_form_contradiction",
        lambda *args: "it differs from the closed-form MLE (forced by the test)",
    )
    with pytest.warns(ppl_mle.ConvergenceWarning, match="forced by the test"):
        result = ppl_mle.fit_mle(ppl_mle.normal(HEIGHTS))
    assert result.status is FitStatus.CONTRADICTS_CLOSED_FORM
    assert not result.converged
    assert result.message.startswith(
        "Cannot vouch for this estimate: it differs from the closed-form MLE (forced by the "
        "test). Verified maximum: Hessian negative definite"
    )


# -- reworded messages change no decision ---------------------------------------------------


def test_reworded_separation_is_still_no_mle(monkeypatch):
    """Uncertainty once found "does not exist" in the message; now it reads the status."""
    diagnose = SoftmaxFamily.diagnose
    monkeypatch.setattr(
        SoftmaxFamily,
        "diagnose",
        lambda self, params: "REWORDED" if diagnose(self, params) is not None else None,
    )
    x, y = separated_data()
    with pytest.warns(ppl_mle.ConvergenceWarning, match="REWORDED"):
        result = ppl_mle.fit_mle(ppl_mle.softmax_regression(x, y))
    assert result.status is FitStatus.SEPARATED
    assert "does not exist" not in result.message
    # The fit's reason, not a redundant parameter: no IdentifiabilityWarning.
    with pytest.warns(ppl_mle.ConvergenceWarning, match="No standard errors: the fit was not"):
        table = result.summary(profile=False)
    assert table["se"].isna().all()


def test_reworded_unboundedness_is_still_no_mle(monkeypatch):
    unbounded = verify.unbounded_direction

    def reworded(*args: object) -> str | None:
        return None if unbounded(*args) is None else "REWORDED"

    monkeypatch.setattr(verify, "unbounded_direction", reworded)
    with pytest.warns(ppl_mle.ConvergenceWarning, match="REWORDED"):
        result = ppl_mle.fit_mle(logistic_separated_model())
    assert result.status is FitStatus.UNBOUNDED
    with pytest.warns(ppl_mle.ConvergenceWarning, match="No standard errors: the fit was not"):
        result.uncertainty()


def test_reworded_singularity_is_still_not_identified(monkeypatch):
    """The summary once found "information" in the problem; now it reads the type."""
    monkeypatch.setattr(
        verify, "_indefinite", lambda names, h: (FitStatus.NOT_IDENTIFIED, "REWORDED")
    )
    with pytest.warns(ppl_mle.ConvergenceWarning, match="REWORDED"):
        result = ppl_mle.fit_mle(redundant_model())
    assert result.status is FitStatus.NOT_IDENTIFIED
    with pytest.warns(ppl_mle.IdentifiabilityWarning, match="No standard errors: REWORDED"):
        table = result.summary()
    assert (table["note"] == "not identified: no SE").all()
