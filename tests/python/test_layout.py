"""test_layout.py — where the package finds libortc and the `ortc` command
when nothing is configured (no ORTC_LIBRARY, ORTC_BUILD_DIR or ORTC_CLI): in
an install prefix laid out as `cmake --install` does (PREFIX/lib/libortc.so.0,
PREFIX/bin/ortc, the package in PREFIX/lib/python3/dist-packages/ortc, or
with a multiarch libdir), and from the source checkout (build/). Each case
runs in a fresh interpreter with a clean environment.
"""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from conftest import BUILD, REPO

PKG = os.path.join(REPO, "tools", "python", "ortc")
PROBE = ("import ortc, ortc.conformance as c, numpy as np; "
         "s = ortc.InferenceSession(%r); "
         "print(ortc.library_path); print(c.find_cli()); "
         "print(s.run(None, {'x': np.array([-1.0, 2.0], np.float32)})[0].tolist())")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ORTC_LIBRARY", "ORTC_BUILD_DIR", "ORTC_CLI", "PYTHONPATH",
                        "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


def relu_model(path):
    from onnx import TensorProto, helper, save
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def probe(model, cwd, **env):
    r = subprocess.run([sys.executable, "-c", PROBE % model], capture_output=True, text=True,
                       env=clean_env(**env), cwd=cwd)
    assert r.returncode == 0, r.stderr
    lib, cli, out = r.stdout.splitlines()
    assert out == "[0.0, 2.0]"
    return os.path.realpath(lib), os.path.realpath(cli)


def real_lib():
    lib = os.environ.get("ORTC_LIBRARY") or os.path.join(BUILD, "libortc.so")
    return os.path.realpath(lib)


@pytest.mark.parametrize("libdir", ["lib", "lib/" + (sysconfig.get_config_var("MULTIARCH")
                                                       or "x86_64-linux-gnu")])
def test_install_prefix(tmp_path, libdir):
    prefix = tmp_path / "prefix"
    site = prefix / "lib" / "python3" / "dist-packages"
    shutil.copytree(PKG, site / "ortc", ignore=shutil.ignore_patterns("__pycache__"))
    (prefix / libdir).mkdir(parents=True, exist_ok=True)
    shutil.copy2(real_lib(), prefix / libdir / "libortc.so.0")
    (prefix / "bin").mkdir()
    cli = os.environ.get("ORTC_CLI") or os.path.join(BUILD, "ortc")
    shutil.copy2(cli, prefix / "bin" / "ortc")
    model = str(tmp_path / "relu.onnx")
    relu_model(model)
    lib, found_cli = probe(model, str(tmp_path), PYTHONPATH=str(site))
    assert lib == os.path.realpath(prefix / libdir / "libortc.so.0")
    assert found_cli == os.path.realpath(prefix / "bin" / "ortc")


def test_source_checkout(tmp_path):
    """From tools/python with nothing set: the checkout's build/ (only when
    this build tree is that build/)."""
    if os.path.realpath(BUILD) != os.path.realpath(os.path.join(REPO, "build")):
        pytest.skip(f"this build tree ({BUILD}) is not the checkout's build/")
    model = str(tmp_path / "relu.onnx")
    relu_model(model)
    lib, cli = probe(model, str(tmp_path), PYTHONPATH=os.path.join(REPO, "tools", "python"))
    assert lib == os.path.realpath(os.path.join(REPO, "build", "libortc.so.0"))
    assert cli == os.path.realpath(os.path.join(REPO, "build", "ortc"))


def test_build_dir_variable(tmp_path):
    model = str(tmp_path / "relu.onnx")
    relu_model(model)
    lib, cli = probe(model, str(tmp_path), PYTHONPATH=os.path.join(REPO, "tools", "python"),
                     ORTC_BUILD_DIR=BUILD)
    assert lib == real_lib() and cli == os.path.realpath(os.path.join(BUILD, "ortc"))


def test_nothing_found_is_a_clear_import_error(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(PKG, site / "ortc", ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([sys.executable, "-c", "import ortc"], capture_output=True, text=True,
                       env=clean_env(PYTHONPATH=str(site), ORTC_LIBRARY=str(tmp_path / "no.so")),
                       cwd=str(tmp_path))
    assert r.returncode != 0
    assert "ImportError: ortc: cannot load libortc" in r.stderr and "ORTC_LIBRARY" in r.stderr
