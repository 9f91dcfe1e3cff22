#!/usr/bin/python3
"""test_run_folders.py — `ortc run MODEL PATH...` on folders of images
(issue 15, item 3), with the Fashion-MNIST AlexNet and small ONNX models
built here.

  --fashion   all 10,000 Fashion-MNIST test images written as PNG files into
              one folder (WORK/pngs; pixels checked equal to the dataset's):
              `ortc run MODEL WORK/pngs --output R.csv --dump-input D.npy`
              must write 10,000 rows in file-name order, feed the model
              exactly the test set's normalized tensor (bit for bit), give
              PyTorch's class on every image and the committed record's
              accuracy (89.74%). Then the same 10,000 PNGs as separate
              arguments with --batch 1 (each image alone): same classes,
              probabilities within the whole-model tolerance. Prints both
              runs' images/s and their ratio — a measurement, not asserted
              (performance targets live in benchmarks, not timed tests).
  --cases     behaviour on small folders: 3 corrupt files among 100 images
              (97 results, the 3 listed with reasons, exit 1), CSV and JSON
              Lines output, --recursive, hidden and skipped files, empty
              folders, --keep-going / --fail-fast, fixed and dynamic batches
              with a partial last batch (against numpy), CSV quoting, the
              progress bar on a pseudo-terminal and silence on a pipe.

  test_run_folders.py --cli build/ortc --work build/run-folders --fashion-work build/fashion-work --fashion

Exit codes: 0 pass, 1 failure, 77 this python lacks numpy/onnx/PIL/torch.
"""
import argparse
import csv
import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MODEL_DIR = os.path.join(REPO, "models", "fashion-alexnet")
MODEL = os.path.join(MODEL_DIR, "fashion_alexnet.onnx")

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    from PIL import Image
    sys.path.insert(0, HERE)
    import test_fashion as tf  # the test set, PyTorch's logits (cached), tfa
except ImportError as e:
    print(f"SKIP: {sys.executable} cannot import numpy, onnx, PIL and torch ({e}); "
          f"set ORTC_PYTHON to Debian's /usr/bin/python3")
    sys.exit(77)

tfa = tf.tfa
REL_TOL = tf.REL_TOL  # DESIGN.md's whole-model tolerance, relative to max|logit|
TIMEOUT = 1500        # seconds; 10,000 single-image runs under ASan are slow

problems = []


def check(cond, msg):
    if not cond:
        problems.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    return cond


def run(cmd, stdin=None, show=True):
    """CompletedProcess (text), with the wall time in .secs."""
    if show:
        shown = cmd if len(cmd) < 12 else cmd[:8] + [f"... ({len(cmd) - 8} more)"]
        print("$ " + " ".join(shown), flush=True)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
    r.secs = time.time() - t0
    return r


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def softmax(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def normalize(u8):
    """The Fashion card's preprocessing, as training computes it (float32)."""
    return tfa.normalize(u8)


def dataset_u8(images_path):
    """The test set's uint8 pixels [N, 28, 28], recovered from the normalized
    float32 tensor and checked to normalize back to it bit for bit."""
    x = np.load(images_path, allow_pickle=False)
    u = np.rint((x[:, 0].astype(np.float64) * np.float32(tfa.STD) + np.float32(tfa.MEAN)) * 255)
    if u.min() < 0 or u.max() > 255:
        raise ValueError(f"{images_path}: pixel values outside 0..255 after undoing the "
                         f"normalization ({u.min()}..{u.max()})")
    u8 = u.astype(np.uint8)
    if not np.array_equal(normalize(u8), x):
        raise ValueError(f"{images_path}: is not the normalization of 8-bit pixels")
    return u8, x


def write_pngs(folder, u8, names):
    os.makedirs(folder, exist_ok=True)
    for img, name in zip(u8, names):
        Image.fromarray(img, mode="L").save(os.path.join(folder, name))


# ---- the 10,000 images ---------------------------------------------------------

def fashion(cli, work, fashion_work):
    images_path, labels_path = tf.test_set(fashion_work, tfa.DATA_DIR)
    u8, x = dataset_u8(images_path)
    labels = np.load(labels_path, allow_pickle=False)
    n = len(u8)
    names = [f"test{i:05d}.png" for i in range(n)]
    folder = os.path.join(work, "pngs")
    with open(images_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(work, "pngs.stamp")
    fresh = False
    try:
        with open(stamp, encoding="utf-8") as f:
            fresh = f.read().strip() == digest and len(os.listdir(folder)) == n
    except OSError:
        pass
    if not fresh:
        t0 = time.time()
        shutil.rmtree(folder, ignore_errors=True)
        write_pngs(folder, u8, names)
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(digest + "\n")
        print(f"wrote {n} PNGs into {folder} ({time.time() - t0:.1f}s)")
    want, _, _ = tf.torch_logits_cached(fashion_work, MODEL_DIR, images_path, x)
    with open(os.path.join(MODEL_DIR, tfa.RECORD), encoding="utf-8") as f:
        recorded = float(json.load(f)["test_accuracy"])

    # 1. the folder, batched and pipelined
    out_csv, dump = os.path.join(work, "folder.csv"), os.path.join(work, "folder_input.npy")
    for p in (out_csv, dump):
        if os.path.exists(p):
            os.remove(p)
    r = run([cli, "run", MODEL, folder, "--output", out_csv, "--dump-input", dump, "--top", "10"])
    if not check(r.returncode == 0, f"folder run: exit {r.returncode}\n{r.stderr}"):
        return
    check(r.stdout == "" and r.stderr == "", f"folder run to a file printed something:\n"
          f"stdout {r.stdout[:300]!r}\nstderr {r.stderr[:300]!r}")
    header, rows = read_csv(out_csv)
    print(f"{out_csv}: {len(rows)} rows, columns {header[:4]}...")
    if not check(len(rows) == n, f"{out_csv}: {len(rows)} rows, expected {n}"):
        return
    check(header[:4] == ["path", "class_1", "label_1", "probability_1"], f"header {header}")
    paths = [row[0] for row in rows]
    check(paths == [os.path.join(folder, nm) for nm in names],
          "rows are not the folder's files in name order")
    got_dump = np.load(dump, allow_pickle=False)
    check(got_dump.shape == x.shape and np.array_equal(got_dump, x),
          f"--dump-input {got_dump.dtype} {list(got_dump.shape)} is not the test set's tensor "
          f"bit for bit (max diff {float(np.abs(got_dump - x).max()) if got_dump.shape == x.shape else 'n/a'})")
    cls = np.array([int(row[1]) for row in rows])
    p_folder = np.array([[float(row[3 + 3 * k]) for k in range(10)] for row in rows])
    c_folder = np.array([[int(row[1 + 3 * k]) for k in range(10)] for row in rows])
    acc = float((cls == labels).mean())
    top_torch = want.argmax(1)
    agree = int((cls == top_torch).sum())
    print(f"folder: accuracy {acc:.4f} ({int((cls == labels).sum())}/{n}), record {recorded:.4f}; "
          f"PyTorch's class on {agree}/{n} images")
    check(agree == n, f"folder: {n - agree} images classified unlike PyTorch")
    check(round(acc, 4) == recorded, f"folder: accuracy {acc:.4f}, the record says {recorded:.4f}")
    check(all(row[2] == tfa.CLASSES[c] for row, c in zip(rows, cls)), "labels do not match classes")
    # probabilities vs PyTorch's softmax: |d softmax| <= max|d logit| / 2
    tol = 0.5 * REL_TOL * float(np.abs(want).max())
    pt = softmax(want)
    p_torch = np.take_along_axis(pt, c_folder, 1)
    # CSV keeps 6 significant digits: add half a unit of the 6th digit
    rounding = 5e-7 * np.maximum(np.abs(p_torch), 1e-30)
    d = float((np.abs(p_folder - p_torch) - rounding).max())
    print(f"folder: max|p_ortc - p_torch| beyond CSV rounding {d:.2e} (tolerance {tol:.2e})")
    check(d <= tol, f"folder: probabilities differ from PyTorch's by {d:.3e} > {tol:.3e}")
    rate_folder = n / r.secs

    # 2. the same files as arguments, one image per run
    out1 = os.path.join(work, "batch1.csv")
    files = [os.path.join(folder, nm) for nm in names]
    r1 = run([cli, "run", MODEL, *files, "--batch", "1", "--output", out1, "--top", "10"])
    if not check(r1.returncode == 0, f"--batch 1 run: exit {r1.returncode}\n{r1.stderr}"):
        return
    _, rows1 = read_csv(out1)
    check(len(rows1) == n and [row[0] for row in rows1] == files,
          f"--batch 1: {len(rows1)} rows, not the {n} files in order")
    if len(rows1) == n:
        p1 = np.array([[float(row[3 + 3 * k]) for k in range(10)] for row in rows1])
        c1 = np.array([[int(row[1 + 3 * k]) for k in range(10)] for row in rows1])
        same_top1 = int((c1[:, 0] == cls).sum())
        same_bits = sum(a[1:] == b[1:] for a, b in zip(rows, rows1))
        # the same image alone: same preprocessing, kernels for batch 1
        # instead of 32 (sums in another order): equal within the tolerance
        d1 = 0.0
        for i in range(n):
            m = dict(zip(c1[i], p1[i]))
            for k in range(10):
                d1 = max(d1, abs(m[c_folder[i, k]] - p_folder[i, k]))
        print(f"--batch 1 vs folder: top-1 equal on {same_top1}/{n}; rows identical to the "
              f"printed digits on {same_bits}/{n}; max|p_batch1 - p_folder| {d1:.2e} "
              f"(tolerance {tol:.2e} + CSV rounding)")
        check(same_top1 == n, f"--batch 1: {n - same_top1} images classified differently")
        check(d1 <= tol + 1e-6, f"--batch 1: probabilities differ by {d1:.3e} from the folder run")
    rate_one = n / r1.secs
    print(f"images/s: folder (batch 32, pipelined) {rate_folder:.0f} ({r.secs:.1f}s), "
          f"separate arguments --batch 1 {rate_one:.0f} ({r1.secs:.1f}s); "
          f"ratio {rate_folder / rate_one:.2f} (measured, not asserted)")


# ---- small cases ------------------------------------------------------------------

def save_model(path, batch, w):
    """input [batch,1,28,28] -> Flatten -> MatMul W[784,10] -> output [batch,10]."""
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "w"], ["output"])]
    graph = helper.make_graph(
        nodes, "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 1, 28, 28])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 10])],
        [onnx.numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, producer_name="test_run_folders",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)
    # the Fashion card and labels, so preprocessing is the GRAY 28x28 one
    with open(os.path.join(MODEL_DIR, "fashion_alexnet.yaml"), encoding="utf-8") as f:
        card = f.read()
    card = card.replace("labels: fashion_mnist_labels.txt",
                        f"labels: {os.path.join(MODEL_DIR, 'fashion_mnist_labels.txt')}")
    with open(path[:-5] + ".yaml", "w", encoding="utf-8") as f:
        f.write(card)


def pty_stderr(cmd):
    """Runs cmd with stderr on a pseudo-terminal; (exit code, bytes written)."""
    mfd, sfd = pty.openpty()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=sfd)
    os.close(sfd)
    out = b""
    while True:
        try:
            b = os.read(mfd, 65536)
        except OSError:  # EIO once the child has closed it
            break
        if not b:
            break
        out += b
    os.close(mfd)
    return p.wait(timeout=TIMEOUT), out


def cases(cli, work, fashion_work):
    images_path, labels_path = tf.test_set(fashion_work, tfa.DATA_DIR)
    u8_all, x_all = dataset_u8(images_path)
    u8, x = u8_all[:100], x_all[:100]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    want_all, _, _ = tf.torch_logits_cached(fashion_work, MODEL_DIR, images_path, x_all)
    want = want_all[:100]

    # 1. three corrupt files among 100 images
    folder = os.path.join(work, "hundred")
    names = [f"img{i:03d}.png" for i in range(100)]
    write_pngs(folder, u8, names)
    bad = {"img017.png": "truncated", "img050.png": "not a PNG or JPEG", "img083.png": None}
    with open(os.path.join(folder, "img017.png"), "rb") as f:
        data = f.read()
    with open(os.path.join(folder, "img017.png"), "wb") as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(folder, "img050.png"), "w", encoding="utf-8") as f:
        f.write("not an image\n")
    open(os.path.join(folder, "img083.png"), "wb").close()  # empty
    good = [i for i, nm in enumerate(names) if nm not in bad]
    for ext in ("csv", "jsonl"):
        out = os.path.join(work, f"hundred.{ext}")
        r = run([cli, "run", MODEL, folder, "--output", out])
        check(r.returncode == 1, f"corrupt files: exit {r.returncode}, expected 1\n{r.stderr}")
        lines = r.stderr.splitlines()
        print("\n".join(lines))
        check(len(lines) == 4 and lines[0] == "ortc: 3 of 100 images could not be classified:",
              f"corrupt files: stderr is not the 3 failures:\n{r.stderr}")
        for nm, why in bad.items():
            hit = [ln for ln in lines[1:] if os.path.join(folder, nm) in ln]
            check(len(hit) == 1 and (why is None or why in hit[0]) and len(hit[0]) > len(nm) + 20,
                  f"corrupt files: {nm} not listed once with a reason: {hit}")
        if ext == "csv":
            _, rows = read_csv(out)
            got_paths = [row[0] for row in rows]
            cls = [int(row[1]) for row in rows]
        else:
            with open(out, encoding="utf-8") as f:
                objs = [json.loads(line) for line in f]
            got_paths = [o["path"] for o in objs]
            cls = [o["top"][0]["class"] for o in objs]
            check(all(len(o["top"]) == 5 and [t["rank"] for t in o["top"]] == [1, 2, 3, 4, 5]
                      for o in objs), "jsonl: every object has top 1..5")
            check(all(o["top"][0]["label"] == tfa.CLASSES[o["top"][0]["class"]] for o in objs),
                  "jsonl: labels do not match classes")
        print(f"{ext}: {len(got_paths)} results")
        check(got_paths == [os.path.join(folder, names[i]) for i in good],
              f"{ext}: results are not the 97 readable images in order")
        check(cls == [int(want[i].argmax()) for i in good] if len(cls) == 97 else False,
              f"{ext}: classes differ from PyTorch's")

    # the same folder with --fail-fast stops at the first bad file, one line
    r = run([cli, "run", MODEL, folder, "--fail-fast", "--output", os.path.join(work, "ff.csv")])
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "img017.png" in r.stderr,
          f"--fail-fast on a folder: exit {r.returncode}, stderr {r.stderr!r}")

    # 2. explicit files: the first failure stops (one line), unless --keep-going
    files = [os.path.join(folder, nm) for nm in ("img000.png", "img017.png", "img001.png")]
    r = run([cli, "run", MODEL, *files])
    check(r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "img017.png" in r.stderr,
          f"files with a bad one: exit {r.returncode}, stderr {r.stderr!r}")
    r = run([cli, "run", MODEL, *files, "--keep-going", "--top", "1"])
    check(r.returncode == 1 and "img017.png: truncated" in r.stderr
          and r.stdout.count(".png\n") == 2 and "img017" not in r.stdout,
          f"--keep-going on files: exit {r.returncode}\nstdout {r.stdout!r}\nstderr {r.stderr!r}")

    # 3. recursion, order, hidden and skipped files; a pipe gets no progress
    tree = os.path.join(work, "tree")
    write_pngs(os.path.join(tree, "b"), u8[:2], ["x.png", "y.PNG"])
    write_pngs(os.path.join(tree, "a"), u8[2:3], ["z.png"])
    write_pngs(tree, u8[3:5], ["m.png", ".hidden.png"])
    write_pngs(os.path.join(tree, ".git"), u8[5:6], ["h.png"])
    Image.fromarray(u8[6], mode="L").save(os.path.join(tree, "c.jpeg"), quality=95)
    with open(os.path.join(tree, "notes.txt"), "w", encoding="utf-8") as f:
        f.write("notes\n")
    out = os.path.join(work, "tree.jsonl")
    r = run([cli, "run", MODEL, tree, "--output", out])
    with open(out, encoding="utf-8") as f:
        got = [json.loads(line)["path"] for line in f]
    check(r.returncode == 0 and got == [os.path.join(tree, "c.jpeg"), os.path.join(tree, "m.png")],
          f"non-recursive: exit {r.returncode}, results {got}\n{r.stderr}")
    check("notes.txt" in r.stderr and "skipped" in r.stderr and "h.png" not in r.stderr,
          f"skipped files not listed: {r.stderr!r}")
    r = run([cli, "run", MODEL, tree, "-r", "--output", out])
    with open(out, encoding="utf-8") as f:
        got = [json.loads(line)["path"] for line in f]
    want_order = [os.path.join(tree, p) for p in ("a/z.png", "b/x.png", "b/y.PNG", "c.jpeg",
                                                  "m.png")]
    check(r.returncode == 0 and got == want_order,
          f"--recursive: exit {r.returncode}, results {got}, expected {want_order}")
    check(r.stdout == "" and r.stderr.startswith("ortc: note: 1 file in the folders"),
          f"a pipe got more than the skipped-files note: {r.stderr!r}")
    r = run([cli, "run", MODEL, os.path.join(tree, "b"), "--top", "1"])
    check(r.returncode == 0 and r.stderr == "", f"a clean folder on a pipe: stderr {r.stderr!r}")

    # 4. folders without images
    empty = os.path.join(work, "empty")
    os.makedirs(os.path.join(empty, "sub"))
    r = run([cli, "run", MODEL, empty])
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and empty in r.stderr
          and "no .png" in r.stderr and "--recursive" in r.stderr,
          f"empty folder: exit {r.returncode}, stderr {r.stderr!r}")
    r = run([cli, "run", MODEL, empty, "-r"])
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and "no .png" in r.stderr,
          f"empty tree: exit {r.returncode}, stderr {r.stderr!r}")

    # 5. batches against numpy: fixed batch 3 (7 images: 3+3+1 padded) and a
    #    dynamic batch with --batch 4 (4+3); the input tensor bit for bit
    rng = np.random.default_rng(15)
    w = rng.standard_normal((784, 10)).astype(np.float32) * np.float32(0.05)
    seven = os.path.join(work, "seven")
    write_pngs(seven, u8[:7], [f"s{i}.png" for i in range(7)])
    ref = softmax((x[:7].reshape(7, 784).astype(np.float64) @ w.astype(np.float64)))
    for batch, extra in ((3, []), ("batch", ["--batch", "4"]), ("batch", [])):
        model = os.path.join(work, f"linear_{batch}.onnx")
        save_model(model, batch, w)
        out, dump = os.path.join(work, "seven.csv"), os.path.join(work, "seven.npy")
        r = run([cli, "run", model, seven, "--output", out, "--top", "10", "--dump-input", dump,
                 *extra])
        if not check(r.returncode == 0, f"batch {batch} {extra}: exit {r.returncode}\n{r.stderr}"):
            continue
        _, rows = read_csv(out)
        check(len(rows) == 7, f"batch {batch} {extra}: {len(rows)} rows")
        worst = 0.0
        for i, row in enumerate(rows):
            for k in range(10):
                c, p = int(row[1 + 3 * k]), float(row[3 + 3 * k])
                worst = max(worst, abs(p - ref[i, c]) - 5e-7 * ref[i, c])
            check(int(row[1]) == int(ref[i].argmax()), f"batch {batch}: image {i} class")
        print(f"batch {batch} {extra}: max|p - numpy| beyond CSV rounding {worst:.2e}")
        check(worst <= 1e-5, f"batch {batch} {extra}: probabilities off by {worst:.2e}")
        check(np.array_equal(np.load(dump), x[:7]), f"batch {batch}: --dump-input differs")
    r = run([cli, "run", os.path.join(work, "linear_3.onnx"), seven, "--batch", "2"])
    check(r.returncode == 1 and "fixed batch of 3" in r.stderr,
          f"--batch 2 on a fixed batch of 3: exit {r.returncode}, {r.stderr!r}")

    # 6. CSV quoting of a path with a comma and quotes; a label with both
    odd = os.path.join(work, "odd")
    write_pngs(odd, u8[:1], ['a,b "c".png'])
    out = os.path.join(work, "odd.csv")
    r = run([cli, "run", MODEL, odd, "--output", out, "--top", "10"])
    _, rows = read_csv(out)
    check(r.returncode == 0 and len(rows) == 1 and rows[0][0] == os.path.join(odd, 'a,b "c".png')
          and len(rows[0]) == 31, f"CSV quoting: {rows}")
    check(tfa.CLASSES[0] in rows[0], f"CSV: 'T-shirt/top' missing from {rows}")

    # 7. usage errors
    for args, what in ((["--output", os.path.join(work, "r.txt")], "--output r.txt"),
                       (["--batch", "0"], "--batch 0")):
        r = run([cli, "run", MODEL, seven, *args])
        check(r.returncode == 2, f"{what}: exit {r.returncode}, expected 2 (usage)")
    r = run([cli, "run", MODEL, "--input", f"input={images_path}", "--batch", "4"])
    check(r.returncode == 2, f"--batch with --input: exit {r.returncode}, expected 2")

    # 8. the progress bar on a terminal: done/total, images/s, ETA, a summary
    rc, err = pty_stderr([cli, "run", MODEL, folder, "--batch", "8", "--output",
                          os.path.join(work, "tty.csv")])
    text = err.decode("utf-8", "replace")
    print("tty stderr (control characters escaped):", repr(text[:300]), "...")
    check(rc == 1, f"tty run: exit {rc}")
    check("/100 [" in text and "images/s" in text and "ETA" in text and "\r" in text,
          f"no progress bar on the terminal: {text[:500]!r}")
    check("100 images in " in text and "3 of 100 images could not be classified" in text,
          f"no summary or failure list on the terminal: {text[-500:]!r}")
    rc, err = pty_stderr([cli, "run", MODEL, folder, "--no-progress", "--output",
                          os.path.join(work, "tty.csv")])
    check("images/s" not in err.decode("utf-8", "replace"), "--no-progress still drew a bar")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the ortc executable")
    ap.add_argument("--work", required=True, help="work folder in the build tree")
    ap.add_argument("--fashion-work", required=True,
                    help="the Fashion-MNIST test set and PyTorch's logits (test_fashion.py)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--fashion", action="store_true", help="the 10,000 test images")
    g.add_argument("--cases", action="store_true", help="small folders")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.fashion_work, exist_ok=True)
    if args.fashion:
        fashion(args.cli, args.work, args.fashion_work)
    else:
        cases(args.cli, args.work, args.fashion_work)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
