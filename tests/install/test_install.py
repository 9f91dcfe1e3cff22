#!/usr/bin/python3
"""test_install.py — ortc as an installed library (issue 15, item 4).

  --consumers  `cmake --install BUILD --prefix WORK/prefix`, then the C
               example of README.md's section "The C API" (the first ```c
               block, taken verbatim) built against that prefix twice: with
               `pkg-config --cflags --libs ortc` and with a CMake project
               using find_package(ortc) / ortc::ortc (a too-new version must
               be refused). Both programs run on the Fashion-MNIST AlexNet
               with a committed sample image and must print PyTorch's logits
               (max|ortc - torch| <= 1e-4 * max|torch|) using the installed
               libortc.so.0. The installed CLI runs without any loader path.
  --deb        `cpack -G DEB` from BUILD; `dpkg-deb -c` must list the CLI, the
               library (real file, SONAME link, dev link), ortc.h, ortc.pc,
               the CMake package files and the Python package (every file of
               tools/python/ortc in Debian's dist-packages); `dpkg-deb -f`
               gives the package name, version, maintainer and dependencies
               on the runtime libraries.

Prints how long installing and packaging took. Exit 0 pass, 1 failure,
77 when this python lacks numpy/torch/PIL.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODEL_DIR = os.path.join(REPO, "models", "fashion-alexnet")
sys.path.insert(0, os.path.join(REPO, "models"))
np = Image = torch = tfa = None  # --consumers imports them (the oracle); --deb needs none


def import_oracle():
    global np, Image, torch, tfa
    try:
        import numpy as np
        from PIL import Image
        import torch
        import train_fashion_alexnet as tfa
    except ImportError as e:
        print(f"SKIP: {sys.executable} cannot import numpy, PIL and torch ({e})")
        sys.exit(77)

REL_TOL = 1e-4
problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    return cond


def run(cmd, env=None, cwd=None, show=True):
    if show:
        print("$ " + " ".join(cmd), flush=True)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    r.secs = time.time() - t0
    if r.returncode != 0:
        print(f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}", flush=True)
    return r


def readme_example():
    """The first ```c block after the heading "## The C API" in README.md."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    sec = text.find("\n## The C API")
    if sec < 0:
        raise ValueError("README.md has no section '## The C API'")
    m = re.search(r"```c\n(.*?)```", text[sec:], re.S)
    nxt = text.find("\n## ", sec + 1)
    if not m or (nxt >= 0 and sec + m.start() > nxt):
        raise ValueError("README.md's section 'The C API' has no ```c block")
    return m.group(1)


def sample_input(work):
    """A committed Fashion-MNIST sample as the model's normalized float32
    input (raw file), and PyTorch's logits on it (the trained state_dict)."""
    png = os.path.join(MODEL_DIR, "test00000-ankle-boot.png")
    with Image.open(png) as im:
        u8 = np.asarray(im.convert("L"), dtype=np.uint8)[None]
    x = tfa.normalize(u8)  # [1, 1, 28, 28] float32
    path = os.path.join(work, "input.f32")
    x.tofile(path)
    torch.set_num_threads(2)
    model = tfa.load_trained(os.path.join(MODEL_DIR, tfa.STATE_DICT), lrn="torch")
    return path, tfa.predict(model, x)[0].astype(np.float64)


def check_output(what, r, want):
    if not check(r.returncode == 0, f"{what}: exit {r.returncode}: {r.stderr.strip()}"):
        return
    try:
        rows = [line.split() for line in r.stdout.strip().splitlines()]
        got = np.array([float(v) for _, v in rows])
        idx = [int(i) for i, _ in rows]
    except ValueError as e:
        check(False, f"{what}: output not 'index value' lines ({e}): {r.stdout[:300]!r}")
        return
    if not check(idx == list(range(len(want))) and got.shape == want.shape,
                 f"{what}: printed {len(got)} values, PyTorch has {len(want)}"):
        return
    diff = float(np.abs(got - want).max())
    tol = REL_TOL * float(np.abs(want).max())
    print(f"{what}: class {int(got.argmax())} ({tfa.CLASSES[int(got.argmax())]}), "
          f"max|ortc - torch| {diff:.2e} (tolerance {tol:.2e})")
    check(diff <= tol and int(got.argmax()) == int(want.argmax()),
          f"{what}: logits differ from PyTorch's by {diff:.3e} > {tol:.3e}\n  ortc  {got}\n"
          f"  torch {want}")


def loaded_libortc(exe, env):
    """The real path of the libortc.so.0 that `exe` loads (ldd), or None."""
    r = run(["ldd", exe], env=env, show=False)
    m = re.search(r"libortc\.so\.0 => (\S+)", r.stdout)
    return os.path.realpath(m.group(1)) if m else None


def find_one(root, name):
    hits = [os.path.join(d, name) for d, _, files in os.walk(root) if name in files]
    return hits[0] if len(hits) == 1 else None


def consumers(args):
    import_oracle()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    prefix = os.path.join(work, "prefix")
    r = run([args.cmake, "--install", args.build, "--prefix", prefix])
    if not check(r.returncode == 0, "cmake --install failed"):
        return
    print(f"cmake --install: {r.secs:.1f}s")
    lib = find_one(prefix, "libortc.so.0")
    pc = find_one(prefix, "ortc.pc")
    cfg = find_one(prefix, "ortcConfig.cmake")
    header = os.path.join(prefix, "include", "ortc", "ortc.h")
    cli = os.path.join(prefix, "bin", "ortc")
    for what, p in (("libortc.so.0", lib), ("ortc.pc", pc), ("ortcConfig.cmake", cfg),
                    ("include/ortc/ortc.h", header), ("bin/ortc", cli)):
        check(p and os.path.exists(p), f"{what} not installed under {prefix}")
    if problems:
        return
    libdir = os.path.dirname(lib)
    r = run(["readelf", "-d", lib])
    check("Library soname: [libortc.so.0]" in r.stdout, f"{lib}: no SONAME libortc.so.0")
    check(os.path.islink(os.path.join(libdir, "libortc.so")), "no libortc.so link for -lortc")
    # the installed CLI finds its library by itself (RUNPATH $ORIGIN/...)
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    r = run([cli, "--version"], env=env)
    check(r.returncode == 0 and r.stdout.startswith("ortc "), f"installed CLI: {r.stderr}")
    real_lib = os.path.realpath(lib)
    check(loaded_libortc(cli, env) == real_lib, "the installed CLI does not load the installed "
          f"libortc ({loaded_libortc(cli, env)})")
    py_src = os.path.join(REPO, "tools", "python", "ortc")
    py_pkg = None
    if os.path.isfile(os.path.join(py_src, "__init__.py")):
        inits = [d for d, _, f in os.walk(prefix) if "__init__.py" in f and d.endswith("/ortc")]
        if check(len(inits) == 1 and re.search(r"/lib/python3[.0-9]*/(site|dist)-packages/ortc$",
                                               inits[0]),
                 f"Python package not installed under lib/python3*/...-packages: {inits}"):
            py_pkg = inits[0]
    else:
        print(f"note: {py_src} does not exist in this tree; no Python package to install")

    src = os.path.join(work, "classify.c")
    with open(src, "w", encoding="utf-8") as f:
        f.write(readme_example())
    x_path, want = sample_input(work)
    model = os.path.join(MODEL_DIR, "fashion_alexnet.onnx")
    run_env = dict(env, LD_LIBRARY_PATH=libdir)

    # 1. pkg-config
    pc_env = dict(env, PKG_CONFIG_PATH=os.path.dirname(pc))
    r = run(["pkg-config", "--modversion", "ortc"], env=pc_env)
    check(r.returncode == 0 and r.stdout.strip() == args.version,
          f"pkg-config --modversion ortc: {r.stdout.strip()!r}, expected {args.version}")
    r = run(["pkg-config", "--cflags", "--libs", "ortc"], env=pc_env)
    flags = r.stdout.split()
    print(f"pkg-config --cflags --libs ortc: {' '.join(flags)}")
    exe_pc = os.path.join(work, "classify_pc")
    r = run([args.cc, "-std=c11", "-Wall", "-Wextra", "-Werror", *args.extra_cflags.split(), src,
             *flags, "-o", exe_pc])
    if check(r.returncode == 0, "the README example does not compile with pkg-config's flags"):
        check(loaded_libortc(exe_pc, run_env) == real_lib,
              f"classify_pc loads {loaded_libortc(exe_pc, run_env)}, not the installed libortc")
        check_output("pkg-config build", run([exe_pc, model, x_path], env=run_env), want)

    # 2. find_package
    proj = os.path.join(work, "consumer")
    os.makedirs(proj)
    shutil.copy(src, proj)
    with open(os.path.join(proj, "CMakeLists.txt"), "w", encoding="utf-8") as f:
        f.write("cmake_minimum_required(VERSION 3.20)\n"
                "project(ortc_consumer C)\n"
                "set(CMAKE_C_STANDARD 11)\n"
                "find_package(ortc ${WANT_VERSION} REQUIRED)\n"
                "add_executable(classify classify.c)\n"
                "target_compile_options(classify PRIVATE -Wall -Wextra -Werror)\n"
                "target_link_libraries(classify PRIVATE ortc::ortc)\n")
    bdir = os.path.join(work, "consumer-build")
    r = run([args.cmake, "-S", proj, "-B", bdir, f"-DCMAKE_PREFIX_PATH={prefix}",
             f"-DWANT_VERSION={args.version}", f"-DCMAKE_C_COMPILER={args.cc}",
             f"-DCMAKE_C_FLAGS={args.extra_cflags}"], env=env)
    if check(r.returncode == 0, "find_package(ortc) project does not configure"):
        r = run([args.cmake, "--build", bdir], env=env)
        if check(r.returncode == 0, "find_package(ortc) project does not build"):
            exe = os.path.join(bdir, "classify")
            check(loaded_libortc(exe, env) == real_lib,
                  f"the find_package build loads {loaded_libortc(exe, env)}, not the installed "
                  "libortc")
            check_output("find_package build", run([exe, model, x_path], env=env), want)
    # 3. the installed Python package, as an onnxruntime script uses it
    if py_pkg and "-fsanitize" in args.extra_cflags and not args.python_preload:
        print("SKIP the installed Python package: a sanitized libortc needs the sanitizer "
              "runtimes preloaded into python3, and this compiler gave none")
    elif py_pkg:
        script = ("import sys, numpy as np, ortc\n"
                  "s = ortc.InferenceSession(sys.argv[1])\n"
                  "x = np.fromfile(sys.argv[2], dtype=np.float32).reshape(1, 1, 28, 28)\n"
                  "y = s.run(None, {s.get_inputs()[0].name: x})[0]\n"
                  "print(ortc.__file__)\n"
                  "for i, v in enumerate(y.ravel()):\n"
                  "    print(i, repr(float(v)))\n")
        py_env = dict(env, PYTHONPATH=os.path.dirname(py_pkg))
        py_env.pop("ORTC_LIBRARY", None)
        py_env.pop("ORTC_BUILD_DIR", None)
        if args.python_preload:  # a sanitized libortc in an uninstrumented python3
            # leaks: CPython and numpy keep allocations alive at exit by design
            py_env.update(LD_PRELOAD=args.python_preload,
                          ASAN_OPTIONS="detect_leaks=0:exitcode=86")
        r = run([sys.executable, "-c", script, model, x_path], env=py_env, cwd=work)
        first, _, rest = r.stdout.partition("\n")
        check(r.returncode != 0 or first.startswith(py_pkg + "/"),
              f"python imported {first}, not the installed package in {py_pkg}")
        r.stdout = rest
        check_output("installed Python package", r, want)

    major = int(args.version.split(".")[0])
    r = run([args.cmake, "-S", proj, "-B", bdir + "-newer", f"-DCMAKE_PREFIX_PATH={prefix}",
             f"-DWANT_VERSION={major + 1}.0", f"-DCMAKE_C_COMPILER={args.cc}"], env=env)
    check(r.returncode != 0 and "compatible with requested version" in " ".join(r.stderr.split()),
          f"find_package(ortc {major + 1}.0) did not fail on the version file")


def deb(args):
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    r = run([args.cpack, "-G", "DEB", "-B", work, "--config",
             os.path.join(args.build, "CPackConfig.cmake")])
    if not check(r.returncode == 0, "cpack -G DEB failed"):
        return
    debs = [f for f in os.listdir(work) if f.endswith(".deb")]
    if not check(len(debs) == 1, f"cpack made {debs}, expected one .deb"):
        return
    pkg = os.path.join(work, debs[0])
    print(f"cpack -G DEB: {r.secs:.1f}s, {pkg} ({os.path.getsize(pkg)} bytes)")
    r = run(["dpkg-deb", "-c", pkg])
    files = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        name = parts[5] if len(parts) >= 6 else ""
        files[name.lstrip(".")] = line
    print("\n".join(sorted(files)))
    libdir = next((os.path.dirname(f) for f in files if f.endswith("/libortc.so.0")), None)
    if not check(libdir and libdir.startswith("/usr/lib"), "no /usr/lib*/libortc.so.0"):
        return
    want = ["/usr/bin/ortc", f"{libdir}/libortc.so.{args.version}", f"{libdir}/libortc.so.0",
            f"{libdir}/libortc.so", "/usr/include/ortc/ortc.h", f"{libdir}/pkgconfig/ortc.pc",
            f"{libdir}/cmake/ortc/ortcConfig.cmake", f"{libdir}/cmake/ortc/ortcConfigVersion.cmake",
            f"{libdir}/cmake/ortc/ortcTargets.cmake"]
    py_src = os.path.join(REPO, "tools", "python", "ortc")
    py_files = []
    for d, dirs, fs in os.walk(py_src):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        py_files += [os.path.relpath(os.path.join(d, f), py_src) for f in fs
                     if not f.endswith(".pyc")]
    want += [f"/usr/lib/python3/dist-packages/ortc/{f}" for f in py_files]
    if not py_files:
        print(f"note: {py_src} does not exist in this tree; no Python package to check")
    for w in want:
        check(w in files, f"{pkg}: does not contain {w}")
    got_py = sorted(f for f in files if "/python3" in f and not f.endswith("/"))
    check(got_py == sorted(f"/usr/lib/python3/dist-packages/ortc/{f}" for f in py_files),
          f"Python files in the package {got_py} are not tools/python/ortc's {py_files}")
    fields = {}
    for key in ("Package", "Version", "Maintainer", "Architecture", "Depends", "Recommends"):
        fields[key] = run(["dpkg-deb", "-f", pkg, key], show=False).stdout.strip()
    print("\n".join(f"{k}: {v}" for k, v in fields.items()))
    check(fields["Package"] == "ortc", f"Package: {fields['Package']}")
    check(fields["Version"] == f"{args.version}-1", f"Version: {fields['Version']}")
    check(re.fullmatch(r".+ <[^@\s]+@[^>\s]+>", fields["Maintainer"]) is not None,
          f"Maintainer: {fields['Maintainer']!r} is not 'Name <address>'")
    deps = fields["Depends"]
    for lib in ("libdnnl2", "libprotobuf-c1", "libyaml-0-2", "libpng16-16", "libjpeg62-turbo",
                "libcjson1", "libgomp1", "libc6"):
        check(re.search(rf"(^|, ){re.escape(lib)}( |,|$)", deps) is not None,
              f"Depends lacks {lib}: {deps}")
    check("python3-numpy" in fields["Recommends"], f"Recommends: {fields['Recommends']}")
    # the packaged .pc resolves inside wherever the package is unpacked
    root = os.path.join(work, "root")
    r = run(["dpkg-deb", "-x", pkg, root])
    env = dict(os.environ, PKG_CONFIG_PATH=root + libdir + "/pkgconfig")
    r = run(["pkg-config", "--cflags", "ortc"], env=env)
    inc = r.stdout.strip()[2:] if r.stdout.startswith("-I") else ""
    check(os.path.isfile(os.path.join(inc, "ortc", "ortc.h")),
          f"the packaged ortc.pc gives {r.stdout.strip()!r}, which has no ortc/ortc.h")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="the configured and built ortc build tree")
    ap.add_argument("--work", required=True, help="scratch folder (emptied)")
    ap.add_argument("--version", required=True, help="ortc's version (project())")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--cpack", default="cpack")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--extra-cflags", default="",
                    help="compile and link flags for the example (a sanitizer build's -fsanitize)")
    ap.add_argument("--python-preload", default="",
                    help="LD_PRELOAD for the Python step (a sanitizer build's runtimes)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--consumers", action="store_true")
    g.add_argument("--deb", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    try:
        consumers(args) if args.consumers else deb(args)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        check(False, f"{type(e).__name__}: {e}")
    print(f"{'consumers' if args.consumers else 'deb'}: {time.time() - t0:.1f}s in all")
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
