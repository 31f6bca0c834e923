"""Small fits in Python, and their compiled objectives kept on disk across processes.

A fit of a few values compiles with PyTensor's Python linker and gives the same numbers as
the C linker; what is compiled under one linker is never served under the other; and an
objective written to disk is read back only for the exact key it was written under (the
declaration, the PyTensor settings, the versions and ppl_mle's source), never for another.
"""

import os
import pickle
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytensor
import pytest
from pytensor.link.basic import PerformLinker

import ppl_mle
from ppl_mle.fit import disk_cache
from ppl_mle.fit import objective as objective_module
from ppl_mle.fit.compiled import SMALL_DATA, python_linker_for_small_data
from ppl_mle.model import declarations

DATA = np.array([1.0, 2.0, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0])


def _linker(result):
    return result.objective._compiled.fn.maker.linker


def test_a_small_fit_in_python_equals_the_c_fit_and_its_closed_form():
    small = ppl_mle.normal(DATA * 1e7 + 3e12)
    with python_linker_for_small_data(small) as light:
        assert light
        in_python = ppl_mle.fit_mle(small)
        intervals = in_python.summary()
    assert isinstance(_linker(in_python), PerformLinker)
    assert not isinstance(_linker(in_c := ppl_mle.fit_mle(small)), PerformLinker)
    assert in_python.converged and in_c.converged
    mean, sd = 3e12 + 1e7 * DATA.mean(), 1e7 * DATA.std()
    assert float(in_python.estimates["mu"]) == pytest.approx(mean, rel=1e-15)
    assert float(in_python.estimates["sigma"]) == pytest.approx(sd, rel=1e-14)
    for name in ("mu", "sigma"):
        assert float(in_python.estimates[name]) == pytest.approx(
            float(in_c.estimates[name]), rel=1e-15
        )
    assert intervals["profile_lower"].to_numpy() == pytest.approx(
        in_c.summary()["profile_lower"].to_numpy(), rel=1e-9
    )


def test_large_data_or_a_users_linker_keep_the_c_linker(monkeypatch):
    big = ppl_mle.normal(np.random.default_rng(0).normal(size=SMALL_DATA + 1))
    with python_linker_for_small_data(big) as light:
        assert not light
        assert pytensor.config.linker == "auto"
    small = ppl_mle.normal(DATA)
    with pytensor.config.change_flags(linker="cvm"), python_linker_for_small_data(small) as light:
        assert not light
        assert pytensor.config.linker == "cvm"


def test_what_the_python_linker_compiled_is_never_served_to_the_c_linker():
    first = ppl_mle.normal(DATA + 0.5)
    with python_linker_for_small_data(first):
        in_python = ppl_mle.fit_mle(first)
    result = ppl_mle.fit_mle(ppl_mle.normal(DATA - 0.5))
    assert isinstance(_linker(in_python), PerformLinker)
    assert not isinstance(_linker(result), PerformLinker)
    assert float(result.estimates["mu"]) == pytest.approx(DATA.mean() - 0.5, rel=1e-15)


def _new_process(monkeypatch):
    """As in a process that has compiled nothing yet: the in-process caches emptied."""
    monkeypatch.setattr(objective_module, "_DECLARED", {})
    monkeypatch.setattr(objective_module, "_COMPILED", weakref.WeakKeyDictionary())
    monkeypatch.setattr(declarations, "_WORKING", {})
    monkeypatch.setattr(objective_module, "_STRUCTURES", objective_module.StructureCache())


@pytest.fixture
def empty_process(monkeypatch):
    _new_process(monkeypatch)


def _fit_on_disk(folder, data, sigma=None):
    model = ppl_mle.normal(data, sigma)
    with python_linker_for_small_data(model), disk_cache.objectives_on_disk(folder):
        result = ppl_mle.fit_mle(model)
        result.summary()
    return result


def _no_compilation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("compiled although the objective was on disk")

    monkeypatch.setattr(objective_module, "_compile", refuse)


def test_an_objective_written_by_one_process_serves_the_next(tmp_path, monkeypatch, empty_process):
    first = _fit_on_disk(tmp_path, DATA)
    files = list(tmp_path.glob("*.pkl"))
    assert len(files) == 1
    # A new process: nothing compiled in it, everything read from the file.
    _new_process(monkeypatch)
    _no_compilation(monkeypatch)
    other = np.random.default_rng(5).normal(-2.0, 0.25, size=40)
    second = _fit_on_disk(tmp_path, other)
    assert second.converged
    assert float(second.estimates["mu"]) == pytest.approx(other.mean(), rel=1e-14)
    assert float(second.estimates["sigma"]) == pytest.approx(other.std(), rel=1e-13)
    assert float(first.estimates["mu"]) == pytest.approx(DATA.mean(), rel=1e-15)
    assert list(tmp_path.glob("*.pkl")) == files  # nothing new to write


def test_another_declaration_never_reads_the_file(tmp_path, monkeypatch, empty_process):
    _fit_on_disk(tmp_path, DATA)
    _new_process(monkeypatch)
    known = _fit_on_disk(tmp_path, DATA, sigma=2.0)  # a known sigma: another graph
    assert known.converged
    assert float(known.standard_errors()["mu"]) == pytest.approx(2.0 / np.sqrt(DATA.size))
    assert len(list(tmp_path.glob("*.pkl"))) == 2


def test_other_versions_or_source_never_read_the_file(tmp_path, monkeypatch, empty_process):
    _fit_on_disk(tmp_path, DATA)
    _new_process(monkeypatch)
    changed = (*disk_cache.environment_key()[:-1], "another source")
    monkeypatch.setattr(disk_cache, "environment_key", lambda: changed)
    compiled = []
    original = objective_module._compile
    monkeypatch.setattr(
        objective_module, "_compile", lambda *a, **k: compiled.append(1) or original(*a, **k)
    )
    result = _fit_on_disk(tmp_path, DATA)
    assert compiled and result.converged
    assert len(list(tmp_path.glob("*.pkl"))) == 2


def test_a_damaged_or_foreign_file_is_compiled_anew(tmp_path, monkeypatch, empty_process):
    _fit_on_disk(tmp_path, DATA)
    (path,) = tmp_path.glob("*.pkl")
    store = disk_cache.DiskStore(tmp_path)
    (key,) = [k for k in objective_module.declared_entries() if store.keeps(k)]
    assert store.load(key) is not None
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    assert store.load(key) is None
    path.write_bytes(pickle.dumps((("another key",), None)))  # written for another key
    assert store.load(key) is None
    _new_process(monkeypatch)
    result = _fit_on_disk(tmp_path, DATA)
    assert result.converged
    assert float(result.estimates["sigma"]) == pytest.approx(DATA.std(), rel=1e-14)
    assert store.load(key) is not None  # rewritten


def test_a_c_linked_objective_is_not_kept(tmp_path, empty_process):
    big = np.random.default_rng(2).normal(size=SMALL_DATA + 1)
    with disk_cache.objectives_on_disk(tmp_path):
        ppl_mle.fit_mle(ppl_mle.normal(big))
    assert not list(tmp_path.glob("*.pkl"))


def test_the_command_line_writes_once_and_answers_alike(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("x\n" + "\n".join(str(v) for v in DATA) + "\n")
    env = {**os.environ, "PPL_MLE_CACHE_DIR": str(tmp_path / "cache")}
    exe = Path(sys.executable).with_name("ppl-mle")
    runs = [
        subprocess.run(
            [str(exe), "fit", "normal", str(data), "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=True,
        )
        for _ in range(2)
    ]
    assert runs[0].stdout == runs[1].stdout
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == 1


def test_data_written_into_the_graph_count_as_data():
    import pymc as pm

    with pm.Model() as constants:  # observations and a design as arrays, not pm.Data
        beta = pm.Flat("beta", shape=2)
        design = np.ones((SMALL_DATA, 2))
        pm.Normal("y", pm.math.dot(design, beta), 1.0, observed=np.zeros(SMALL_DATA))
    with python_linker_for_small_data(constants) as light:
        assert not light
    with pm.Model() as few:
        mu = pm.Flat("mu")
        pm.Normal("y", mu, 1.0, observed=DATA)
    with python_linker_for_small_data(few) as light:
        assert light
