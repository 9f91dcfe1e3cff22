"""test_dask.py — ortc.dask on a Dask LocalCluster of 2 worker processes,
with the Fashion-MNIST test images written as PNG files (into the build
tree, once): results identical to a single-process run and to `ortc run` on
the same files; a worker killed mid-run still yields every result exactly
once; CSV part files, a lazy Dask DataFrame, map_tensors and an unreadable
file. Prints the throughput of each run.

  ORTC_DASK_IMAGES=N   how many of the 10,000 test images (default 2000;
                       ORTC_FULL=1 means all 10,000 — tools/check-all --full)
  ORTC_PY_WORK=DIR     where the PNG files go (default build/python-work)
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import BUILD, FASHION_DIR, REPO

import ortc
import ortc.dask

MODEL = os.path.join(FASHION_DIR, "fashion_alexnet.onnx")
FULL = os.environ.get("ORTC_FULL") == "1"
N = 10000 if FULL else int(os.environ.get("ORTC_DASK_IMAGES", "2000"))
WORK = os.environ.get("ORTC_PY_WORK", os.path.join(BUILD, "python-work"))
TOP = 5
RATES = {}


def write_pngs(folder):
    """The 10,000 test images of Debian's dataset-fashion-mnist as
    folder/testNNNNN.png (8-bit gray), rewritten only when the stamp (the
    dataset's sizes and mtimes) changes. Returns (paths, labels)."""
    from PIL import Image
    sys.path.insert(0, os.path.join(REPO, "models"))
    import train_fashion_alexnet as tfa
    stamp_text = "".join(
        f"{n} {os.stat(os.path.join(tfa.DATA_DIR, n)).st_size} "
        f"{os.stat(os.path.join(tfa.DATA_DIR, n)).st_mtime_ns}\n"
        for n in tfa.DATA_FILES["test"])
    stamp = os.path.join(folder, "pngs.stamp")
    images, labels = tfa.load_split("test")
    paths = [os.path.join(folder, f"test{i:05d}.png") for i in range(len(images))]
    try:
        fresh = open(stamp).read() == stamp_text and all(os.path.isfile(p) for p in paths)
    except OSError:
        fresh = False
    if not fresh:
        os.makedirs(folder, exist_ok=True)
        t0 = time.time()
        for img, p in zip(images, paths):
            Image.fromarray(img, "L").save(p)
        with open(stamp, "w") as f:
            f.write(stamp_text)
        print(f"wrote {len(paths)} PNG files into {folder} ({time.time() - t0:.1f} s)")
    return paths, labels.astype(np.int64)


@pytest.fixture(scope="module")
def data():
    paths, labels = write_pngs(os.path.join(WORK, "fashion-png"))
    return paths[:N], labels[:N]


@pytest.fixture(scope="module")
def local(data):
    """The single-process run (client=None, same batching, 1 kernel thread)."""
    paths, labels = data
    t0 = time.time()
    df = ortc.dask.classify(paths, MODEL, threads=1)
    secs = time.time() - t0
    RATES["single process, 1 kernel thread"] = N / secs
    print(f"single process: {N} images in {secs:.1f} s = {N / secs:.0f} images/s")
    return df


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=40)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()
    print("\nthroughput (images/s): " + "; ".join(f"{k}: {v:.0f}" for k, v in RATES.items()))


def test_local_run_matches_labels_and_cli(data, local, cli, tmp_path):
    paths, labels = data
    assert len(local) == N and list(local["path"]) == paths and (local["error"] == "").all()
    acc = float((local["class_1"].to_numpy() == labels).mean())
    print(f"accuracy on {N} images: {acc:.4%}")
    if N == 10000:
        assert round(acc * 100, 2) == 89.74  # the model card's figure
    # `ortc run` on the same files (C decoding and preprocessing), 2,000
    # image arguments per process (its argument list holds up to 4,096)
    res = []
    for i in range(0, len(paths), 2000):
        r = subprocess.run([cli, "run", MODEL, *paths[i:i + 2000], "--json", "--threads", "1",
                            "--top", str(TOP)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        res += json.loads(r.stdout)["results"]
    assert [x["image"] for x in res] == paths
    for r_ in range(1, TOP + 1):
        want_c = np.array([x["top"][r_ - 1]["class"] for x in res], np.int64)
        want_p = np.array([x["top"][r_ - 1]["probability"] for x in res], np.float64)
        want_l = [x["top"][r_ - 1]["label"] for x in res]
        assert np.array_equal(local[f"class_{r_}"].to_numpy(), want_c), f"class_{r_}"
        # The CLI's JSON (cJSON) prints 15 significant digits whenever they
        # read back within DBL_EPSILON relative of the value (cJSON's own
        # compare_double), so a printed probability may be 1 ulp off the
        # double it had; that is the only difference allowed.
        got_p = local[f"probability_{r_}"].to_numpy()
        bad = np.flatnonzero(np.abs(got_p - want_p) >
                             np.maximum(np.abs(got_p), np.abs(want_p)) * np.finfo(float).eps)
        assert not len(bad), (f"probability_{r_} differs from ortc run's on {len(bad)} images, "
                              f"first {paths[bad[0]]}: {got_p[bad[0]]!r} vs {want_p[bad[0]]!r}")
        assert list(local[f"label_{r_}"]) == want_l


def test_single_process_all_cores(data, local):
    """The fair single-process figure: one session on all cores (kernel
    threads = cores). Same classes as the 1-thread run; oneDNN may sum in
    another order with more threads, so probabilities are compared within
    1e-6 (they were bit-identical on the 2-core test machine)."""
    paths, _ = data
    t0 = time.time()
    df = ortc.dask.classify(paths, MODEL, threads=0)
    secs = time.time() - t0
    RATES[f"single process, {os.cpu_count()} kernel threads"] = N / secs
    for r in range(1, TOP + 1):
        assert np.array_equal(df[f"class_{r}"].to_numpy(), local[f"class_{r}"].to_numpy())
        diff = np.abs(df[f"probability_{r}"].to_numpy() - local[f"probability_{r}"].to_numpy())
        assert diff.max() <= 1e-6
    print(f"all cores: {N / secs:.0f} images/s; probabilities bit-identical to 1 thread: "
          f"{df.equals(local)}")


def test_cluster_equals_single_process(data, local, client):
    paths, _ = data
    t0 = time.time()
    df = ortc.dask.classify(paths, MODEL, client=client)
    secs = time.time() - t0
    RATES["Dask, 2 workers x 1 thread (sessions created)"] = N / secs
    print(f"Dask: {N} images in {secs:.1f} s = {N / secs:.0f} images/s")
    assert df.equals(local), "the cluster's results differ from the single-process run"
    # the workers kept their sessions: a second run creates none
    t0 = time.time()
    df = ortc.dask.classify(paths, MODEL, client=client)
    secs = time.time() - t0
    RATES["Dask, 2 workers x 1 thread (sessions reused)"] = N / secs
    assert df.equals(local)
    n_sessions = client.run(lambda: len(ortc.dask._SESSIONS))
    assert sorted(n_sessions.values()) == [1, 1], n_sessions


def test_killed_worker_loses_and_duplicates_nothing(data, local, client):
    paths, _ = data
    pids = client.run(os.getpid)
    killed = {}

    def kill_one(done, total):
        if killed or done < max(1, total // 3):
            return
        busy = {w: ks for w, ks in client.processing().items() if ks}
        if not busy:
            return
        w = sorted(busy)[0]
        killed.update(worker=w, pid=pids[w], keys=list(busy[w]), done=done, total=total)
        os.kill(pids[w], signal.SIGKILL)

    t0 = time.time()
    df = ortc.dask.classify(paths, MODEL, client=client, progress=kill_one)
    secs = time.time() - t0
    RATES["Dask, one worker killed mid-run"] = N / secs
    assert killed, "no worker was killed (the run finished before a third of it was done?)"
    print(f"killed worker {killed['worker']} (pid {killed['pid']}) after {killed['done']}/"
          f"{killed['total']} partitions, while it held {killed['keys']}; {N} images in "
          f"{secs:.1f} s")
    assert len(df) == N and df["path"].is_unique and set(df["path"]) == set(paths)
    assert df.equals(local), "results differ after the kill"
    assert killed["pid"] not in client.run(os.getpid).values(), "the killed worker still runs"
    # the scheduler ran the killed worker's partitions again
    stories = client.run_on_scheduler(
        lambda dask_scheduler, keys: {k: [t[2] for t in dask_scheduler.story(k)] for k in keys},
        keys=killed["keys"])
    again = [k for k, finishes in stories.items() if finishes.count("processing") >= 2]
    print(f"partitions processed twice: {again}")
    assert again, f"no partition of the killed worker was rescheduled: {stories}"


def test_csv_parts_and_lazy_frame(data, local, client, tmp_path):
    paths, _ = data
    out = tmp_path / "parts"
    files = ortc.dask.classify(paths, MODEL, client=client, output=str(out))
    assert files == sorted(files) and len(files) == -(-N // 256)
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    back = pd.concat([pd.read_csv(f, keep_default_na=False, float_precision="round_trip")
                      for f in files], ignore_index=True)
    assert list(back["path"]) == paths
    for r in range(1, TOP + 1):
        assert np.array_equal(back[f"class_{r}"].to_numpy(), local[f"class_{r}"].to_numpy())
        assert np.array_equal(back[f"probability_{r}"].to_numpy(dtype=np.float64),
                              local[f"probability_{r}"].to_numpy())  # CSV keeps every digit
    lazy = ortc.dask.classify(paths, MODEL, client=client, lazy=True)
    assert lazy.npartitions == len(files)
    assert lazy.compute().reset_index(drop=True).equals(local)


def test_parquet_needs_an_engine(data, client, tmp_path):
    try:
        pd.io.parquet.get_engine("auto")
        have = True
    except ImportError:
        have = False
    if have:
        files = ortc.dask.classify(data[0][:64], MODEL, client=client, output=str(tmp_path),
                                   format="parquet")
        assert len(pd.read_parquet(files[0])) == 64
    else:  # Debian 12 packages neither pyarrow nor fastparquet
        with pytest.raises(ortc.InvalidArgument, match="parquet output needs pyarrow"):
            ortc.dask.classify(data[0][:64], MODEL, client=client, output=str(tmp_path),
                               format="parquet")


def test_unreadable_file_is_a_row(data, local, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    paths = [data[0][0], str(bad), data[0][1]]
    df = ortc.dask.classify(paths, MODEL, threads=1)
    assert list(df["path"]) == paths
    assert df["error"][1] and df["class_1"][1] == -1
    assert df.iloc[[0, 2]].reset_index(drop=True).equals(local.iloc[:2].reset_index(drop=True))


def test_map_tensors(data, client, tmp_path):
    x = np.random.default_rng(5).standard_normal((100, 1, 28, 28)).astype(np.float32)
    files = []
    for i in range(len(x)):
        p = tmp_path / f"x{i:03d}.npy"
        np.save(p, x[i])
        files.append(str(p))
    want = ortc.InferenceSession(MODEL, threads=1).run(None, {"input": np.ascontiguousarray(x)})[0]
    for c in (None, client):
        df = ortc.dask.map_tensors(str(tmp_path / "x*.npy"), MODEL, client=c, batch=16,
                                   partition_size=32)
        assert list(df["path"]) == files
        got = np.stack(df["output"].to_list())
        assert np.array_equal(got, want), "map_tensors' outputs differ from one batched run"
