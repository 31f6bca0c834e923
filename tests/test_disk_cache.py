"""Small fits in Python, and their compiled objectives kept on disk across processes.

A fit of a few values compiles with PyTensor's Python linker and gives the same numbers as
the C linker; what is compiled under one linker is never served under the other; and an
objective written to disk is read back only for the exact key it was written under (the
declaration, the PyTensor settings, the versions and ppl_mle's source), never for another.
"""

import json
import os
import pickle
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np
import pytensor
import pytest

import ppl_mle
from ppl_mle.fit import disk_cache
from ppl_mle.fit.compiled import SMALL_DATA, python_linker_for_small_data

DATA = np.array([1.0, 2.0, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.0])


def _in_python(result):
    return result.objective.linker == "python"


def test_a_small_fit_in_python_equals_the_c_fit_and_its_closed_form():
    small = ppl_mle.normal(DATA * 1e7 + 3e12)
    with python_linker_for_small_data(small) as light:
        assert light
        in_python = ppl_mle.fit_mle(small)
        intervals = in_python.summary()
    assert _in_python(in_python)
    assert not _in_python(in_c := ppl_mle.fit_mle(small))
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
    assert _in_python(in_python)
    assert not _in_python(result)
    assert float(result.estimates["mu"]) == pytest.approx(DATA.mean() - 0.5, rel=1e-15)


_PROCESS = """
import json, sys
from pathlib import Path
import numpy as np
import ppl_mle
from ppl_mle.fit import disk_cache
from ppl_mle.fit.cache import compilations
from ppl_mle.fit.compiled import python_linker_for_small_data
folder, values, sigma, foreign = sys.argv[1:]
if foreign == "yes":  # as another version of the stack, or of ppl_mle's source
    changed = (*disk_cache.environment_key()[:-1], "another source")
    disk_cache.environment_key = lambda: changed
model = ppl_mle.normal(np.load(values), json.loads(sigma))
where = None if folder == "-" else Path(folder)  # "-": the store the environment names
with python_linker_for_small_data(model), disk_cache.objectives_on_disk(where):
    result = ppl_mle.fit_mle(model)
    se = result.bse
print(json.dumps({
    "compiled": compilations(),
    "mu": float(result.estimates["mu"]),
    "sigma": float(np.asarray(result.estimates.get("sigma", np.nan))),
    "se_mu": float(se["mu"]),
}))
"""


def _process(folder, data, sigma=None, *, foreign=False, env=None):
    """Fit ``ppl_mle.normal(data, sigma)`` with the store in ``folder``, in a new process."""
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "data.npy"
        np.save(values, np.asarray(data, dtype=float))
        return _run_process([str(folder), str(values), json.dumps(sigma)], foreign, env)


def _run_process(args, foreign, env):
    done = subprocess.run(
        [sys.executable, "-c", _PROCESS, *args, "yes" if foreign else "no"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _files(folder):
    return sorted(Path(folder).glob("*.pkl"))


def test_an_objective_written_by_one_process_serves_the_next(tmp_path):
    first = _process(tmp_path, DATA)
    files = _files(tmp_path)
    assert first["compiled"] > 0 and len(files) == 1
    assert first["mu"] == pytest.approx(DATA.mean(), rel=1e-15)
    other = np.random.default_rng(5).normal(-2.0, 0.25, size=40)
    second = _process(tmp_path, other)
    # The objective and its derivatives read from the file: what is compiled is the start
    # point's map to the unconstrained space alone.
    assert second["compiled"] == 1 < first["compiled"]
    assert second["mu"] == pytest.approx(other.mean(), rel=1e-14)
    assert second["sigma"] == pytest.approx(other.std(), rel=1e-13)
    assert second["se_mu"] == pytest.approx(other.std() / np.sqrt(other.size), rel=1e-9)
    assert _files(tmp_path) == files  # nothing new to write


def test_another_declaration_never_reads_the_file(tmp_path):
    _process(tmp_path, DATA)
    known = _process(tmp_path, DATA, sigma=2.0)  # a known sigma: another graph
    assert known["compiled"] > 1
    assert known["se_mu"] == pytest.approx(2.0 / np.sqrt(DATA.size), rel=1e-12)
    assert len(_files(tmp_path)) == 2


def test_other_versions_never_read_the_file_and_their_files_are_removed(tmp_path):
    _process(tmp_path, DATA)
    (old,) = _files(tmp_path)
    result = _process(tmp_path, DATA, foreign=True)
    assert result["compiled"] > 1
    assert result["sigma"] == pytest.approx(DATA.std(), rel=1e-14)
    (new,) = _files(tmp_path)  # written for the new version; the old one removed
    assert new != old


def test_a_damaged_or_foreign_file_is_compiled_anew(tmp_path):
    _process(tmp_path, DATA)
    (path,) = _files(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    truncated = _process(tmp_path, DATA)
    assert truncated["compiled"] > 1
    assert truncated["sigma"] == pytest.approx(DATA.std(), rel=1e-14)
    path.write_bytes(pickle.dumps((("another key",), None)))  # written for another key
    assert _process(tmp_path, DATA)["compiled"] > 1
    assert _process(tmp_path, DATA)["compiled"] == 1  # rewritten


def test_a_c_linked_objective_is_not_kept(tmp_path):
    big = np.random.default_rng(2).normal(size=SMALL_DATA + 1)
    result = _process(tmp_path, big)
    assert result["mu"] == pytest.approx(big.mean(), rel=1e-13)
    assert not _files(tmp_path)


def test_the_store_switched_off_keeps_nothing(tmp_path):
    env = {"PPL_MLE_CACHE_DIR": "off", "XDG_CACHE_HOME": str(tmp_path / "home")}
    for _ in range(2):
        assert _process("-", DATA, env=env)["compiled"] > 1
    assert not (tmp_path / "home" / "ppl_mle").exists()  # (other packages' caches aside)


def test_the_store_is_pruned_to_its_bound_oldest_first(tmp_path):
    store = disk_cache.DiskStore(tmp_path)
    key = ("a declaration", ("Mode", "py", "fast_run", "float64"))
    assert store.keeps(key)
    tmp_path.mkdir(exist_ok=True)
    oldest = tmp_path / f"{store.prefix}-old.pkl"
    oldest.write_bytes(b"0" * (disk_cache.MAX_BYTES + 1))
    os.utime(oldest, (1.0, 1.0))
    store.save(key, ({"_compiled": types.SimpleNamespace(lazy={})}, ("data",)))
    (kept,) = _files(tmp_path)
    assert kept != oldest and store.load(key) is not None


def test_the_command_line_writes_once_and_answers_alike(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("x\n" + "\n".join(str(v) for v in DATA) + "\n")
    env = {**os.environ, "PPL_MLE_CACHE_DIR": str(tmp_path / "cache")}
    exe = Path(sys.executable).with_name("ppl-mle")
    runs = [
        subprocess.run(
            [str(exe), "fit", "normal", str(data), "--json", *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=True,
        )
        for extra in ([], [], ["--no-cache"])
    ]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    (written,) = (tmp_path / "cache").glob("*.pkl")
    written.unlink()
    subprocess.run([str(exe), "fit", "normal", str(data), "--no-cache"], env=env, check=True)
    assert not list((tmp_path / "cache").glob("*.pkl"))


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
