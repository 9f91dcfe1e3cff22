"""dask.py — batch scoring of many files across a Dask distributed cluster
(python3-distributed): the files are split into partitions, one task per
partition; each worker process keeps one ortc session per model (created on
its first task, reused by the next ones) and runs its partition's files in
batches. Results come back as one pandas DataFrame in input order, or as a
Dask DataFrame (lazy=True), or are written as one CSV/Parquet file per
partition (output=DIR).

    from dask.distributed import Client
    import ortc.dask
    client = Client("tcp://scheduler:8786")       # or None: this process only
    df = ortc.dask.classify("photos/**/*.jpg", "alexnet.onnx", client=client)

A worker that dies mid-partition has that partition run again by Dask on
another worker (its result is never merged twice: each partition's rows are
one task result, and written files are renamed into place whole). Paths and
the model file must be readable on every worker (a shared file system), or
pass the model as bytes.
"""
import dataclasses
import glob as _glob
import hashlib
import os
import sys
import threading
import time

import numpy as np

from . import _capi as C
from . import images as _images
from .session import InferenceSession

__all__ = ["classify", "map_tensors", "list_files", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                    ".pgm")

# ---- the per-process session cache (lives in each worker process) -------------------

_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()


def _session(model_key, model, threads, optimize):
    """This process's session for the model, created on first use. Sessions
    are thread-safe, so a worker's task threads share it."""
    key = (model_key, threads, optimize)
    with _SESSIONS_LOCK:
        s = _SESSIONS.get(key)
        if s is None:
            s = InferenceSession(model, threads=threads, optimize=optimize)
            _SESSIONS[key] = s
        return s


def _worker_threads(spec):
    """Kernel threads for this worker's sessions: the spec's when given, else
    this machine's cores shared among the task threads of all Dask workers
    on it (two 1-thread workers on 2 cores: 1 each)."""
    if spec["threads"] is not None:
        return spec["threads"]
    slots = 1
    try:
        from distributed import get_worker
        w = get_worker()
        host = w.address.split("://")[-1].rsplit(":", 1)[0]
        slots = spec["slots_by_host"].get(host)
        if slots is None:
            slots = w.state.nthreads if hasattr(w, "state") else w.nthreads
    except (ImportError, ValueError):
        return 0  # not on a worker: all cores (ortc's default)
    return max(1, (os.cpu_count() or 1) // max(1, slots))


# ---- file lists ------------------------------------------------------------------------


def list_files(paths_or_glob, extensions=None, recursive=False):
    """Files to process, in a stable order: a glob pattern (sorted matches;
    '**' recurses), a folder (its files sorted; recursive=True descends), a
    file, or a list of these. extensions filters folder listings (not
    explicit files)."""
    items = [paths_or_glob] if isinstance(paths_or_glob, (str, os.PathLike)) else paths_or_glob
    out = []
    for p in items:
        p = os.fspath(p)
        if any(ch in p for ch in "*?["):
            out += sorted(f for f in _glob.glob(p, recursive=True) if os.path.isfile(f))
        elif os.path.isdir(p):
            found = []
            for root, dirs, files in os.walk(p):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files)
                          if not extensions or f.lower().endswith(tuple(extensions))]
                if not recursive:
                    break
            out += found
        else:
            out.append(p)
    return out


def _partitions(files, size):
    return [files[i:i + size] for i in range(0, len(files), size)]

# ---- the task: one partition ----------------------------------------------------------


def _run_partition(index, files, spec, model):
    """Scores files in batches through this process's session; returns a
    pandas DataFrame, or with spec['output'] writes it and returns a
    one-row summary."""
    import pandas as pd
    sess = _session(spec["model_key"], model, _worker_threads(spec), spec["optimize"])
    if spec["mode"] == "classify":
        rows = _classify_rows(sess, files, spec)
        df = pd.DataFrame(rows, columns=_classify_columns(spec["top"]))
    else:
        df = _map_rows(sess, files, spec)
    if not spec["output"]:
        return df
    fmt = spec["format"]
    path = os.path.join(spec["output"], f"part-{index:05d}.{fmt}")
    tmp = os.path.join(spec["output"], f".part-{index:05d}.{fmt}.{os.getpid()}.tmp")
    if fmt == "csv":
        # repr: the shortest text that reads back as the same double (pandas'
        # default keeps fewer digits); read with float_precision="round_trip"
        df.to_csv(tmp, index=False, float_format=repr)
    else:
        df.to_parquet(tmp, index=False)
    os.replace(tmp, path)  # whole or not at all: a retried partition rewrites the same name
    return pd.DataFrame({"partition": [index], "path": [path], "rows": [len(df)]})


def _batch_size(sess, input_name, batch):
    arg = next(a for a in sess.get_inputs() if a.name == input_name)
    fixed = arg.shape[0] if arg.shape and isinstance(arg.shape[0], int) else None
    return fixed or batch, fixed is not None


def _run_batches(sess, input_name, output_names, items, batch):
    """Yields (start, count, outputs) over items (arrays of one example
    each, None for a failed item) in batches; a model with a fixed batch
    size gets zero-padded batches as `ortc run` does."""
    size, fixed = _batch_size(sess, input_name, batch)
    for start in range(0, len(items), size):
        chunk = items[start:start + size]
        ok = [a for a in chunk if a is not None]
        if not ok:
            yield start, len(chunk), None
            continue
        n = size if fixed else len(ok)
        x = np.zeros((n, *ok[0].shape), dtype=ok[0].dtype)
        for i, a in enumerate(ok):
            x[i] = a
        yield start, len(chunk), sess.run(output_names, {input_name: x})


def _classify_columns(top):
    cols = ["path", "error"]
    for r in range(1, top + 1):
        cols += [f"class_{r}", f"probability_{r}", f"label_{r}"]
    return cols


def _classify_rows(sess, files, spec):
    card = spec["card"]
    labels = spec["labels"] or []
    input_name = card.input_name or sess.get_inputs()[0].name
    output_name = card.output_name or sess.get_outputs()[0].name
    top = spec["top"]
    items, errors = [], []
    for f in files:
        try:
            items.append(_images.preprocess(f, card))
            errors.append("")
        except Exception as e:  # noqa: BLE001  an unreadable file is a result, not a crash
            items.append(None)
            errors.append(f"{type(e).__name__}: {e}")
    rows = []
    for start, count, outs in _run_batches(sess, input_name, [output_name], items,
                                           spec["batch"]):
        k = 0
        scores = outs[0].reshape(outs[0].shape[0], -1) if outs is not None else None
        for i in range(start, start + count):
            row = [files[i], errors[i]]
            if items[i] is None:
                row += [-1, float("nan"), ""] * top
            else:
                s = scores[k]
                k += 1
                p = _images.softmax(s) if card.kind == "logits" else s.astype(np.float64)
                order = sorted(range(len(p)), key=lambda c: (-p[c], c))[:top]
                for c in order:
                    row += [c, float(p[c]), labels[c] if c < len(labels) else ""]
                row += [-1, float("nan"), ""] * (top - len(order))
            rows.append(row)
    return rows


def _map_rows(sess, files, spec):
    import pandas as pd
    input_name = spec["input_name"] or sess.get_inputs()[0].name
    output_names = spec["output_names"] or [o.name for o in sess.get_outputs()]
    items = [spec["load"](f) for f in files]
    frames = []
    for start, count, outs in _run_batches(sess, input_name, output_names, items,
                                           spec["batch"]):
        paths = files[start:start + count]
        if spec["postprocess"]:
            res = spec["postprocess"](paths, outs)
            frames.append(res if isinstance(res, pd.DataFrame) else pd.DataFrame(res))
        else:
            d = {"path": paths}
            for name, o in zip(output_names, outs):
                d[name] = [o[i] for i in range(len(paths))]
            frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"path": []})


# ---- driving the tasks -------------------------------------------------------------------


def _model_ref(model):
    """(key, what tasks get): a path (must exist on every worker) or bytes."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
        return "sha256:" + hashlib.sha256(data).hexdigest(), data
    path = os.path.abspath(os.fspath(model))
    st = os.stat(path)  # a missing model fails here, before any task
    return f"{path}:{st.st_size}:{st.st_mtime_ns}", path


def _slots_by_host(client):
    slots = {}
    for w in client.scheduler_info()["workers"].values():
        slots[w["host"]] = slots.get(w["host"], 0) + w["nthreads"]
    return slots


def _drive(files, model, client, spec, partition_size, lazy, progress, meta=None):
    import pandas as pd
    key, ref = _model_ref(model)
    spec["model_key"] = key
    out = spec["output"]
    if out:
        if spec["format"] not in ("csv", "parquet"):
            raise C.InvalidArgument(f"format '{spec['format']}': write csv or parquet")
        if spec["format"] == "parquet":
            try:
                pd.io.parquet.get_engine("auto")
            except ImportError as e:
                raise C.InvalidArgument(f"parquet output needs pyarrow or fastparquet, which "
                                        f"this Python lacks ({e}); use format='csv'") from None
        os.makedirs(out, exist_ok=True)
    parts = _partitions(files, partition_size)
    if client is None:
        spec["slots_by_host"] = {}
        results = []
        for i, p in enumerate(parts):
            results.append(_run_partition(i, p, spec, ref))
            if progress:
                progress(i + 1, len(parts))
        return _finish(results, out)
    spec["slots_by_host"] = _slots_by_host(client)
    if isinstance(ref, bytes):
        [ref] = client.scatter([ref], broadcast=True)
    token = hashlib.sha256(f"{key}{time.time_ns()}{os.getpid()}".encode()).hexdigest()[:12]
    names = [f"ortc-{spec['mode']}-{token}-{i:05d}" for i in range(len(parts))]
    if lazy:
        import dask
        import dask.dataframe as dd
        delayed = [dask.delayed(_run_partition, pure=False)(i, p, spec, ref, dask_key_name=n)
                   for i, (p, n) in enumerate(zip(parts, names))]
        return dd.from_delayed(delayed, meta=meta, verify_meta=False)
    from distributed import as_completed
    futures = [client.submit(_run_partition, i, p, spec, ref, key=n, pure=False)
               for i, (p, n) in enumerate(zip(parts, names))]
    index = {f.key: i for i, f in enumerate(futures)}
    results = [None] * len(parts)
    done = 0
    try:
        for fut, res in as_completed(futures, with_results=True):
            results[index[fut.key]] = res
            fut.release()
            done += 1
            if progress:
                progress(done, len(parts))
    finally:
        for f in futures:
            f.release()
    return _finish(results, out)


def _finish(results, out):
    import pandas as pd
    df = pd.concat(results, ignore_index=True) if results else pd.DataFrame()
    if out:
        for f in os.listdir(out):  # leftovers of attempts killed mid-write
            if f.startswith(".part-") and f.endswith(".tmp"):
                os.unlink(os.path.join(out, f))
        return list(df["path"]) if len(df) else []
    return df


def _progress_fn(progress):
    if progress is True:
        t0 = time.time()

        def show(done, total):
            rate = done / max(time.time() - t0, 1e-9)
            sys.stderr.write(f"\rortc.dask: {done}/{total} partitions ({rate:.1f}/s)")
            if done == total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        return show
    return progress or None


def classify(paths_or_glob, model, client=None, batch=32, *, top=5, card=None, labels=None,
             partition_size=None, output=None, format="csv", threads=None, optimize=True,
             lazy=False, recursive=False, progress=None):
    """Classifies image files with an image model and returns a pandas
    DataFrame, one row per file in input order: path, error ('' or why the
    file could not be read), and for r = 1..top: class_r, probability_r,
    label_r.

    paths_or_glob: a glob ('photos/**/*.png'), a folder (images in it;
    recursive=True descends), a file or a list of them. model: a .onnx path
    or the model's bytes. client: a dask.distributed Client (None: run here,
    in this process, with the same batching). card: a model card path or
    ortc.images.Card (default MODEL.yaml next to the model, else the
    ImageNet default, as `ortc run`); labels: a label file (default the
    card's). Preprocessing is ortc.images (equal to `ortc run
    --dump-input`); probabilities are the softmax of logits (card kind
    logits) computed as the CLI does.

    batch: images per run (a model with a fixed batch size uses its own);
    partition_size: files per task (default 8 batches). threads: kernel
    threads per worker session (default: the machine's cores divided among
    the Dask task threads on it). output=DIR writes DIR/part-NNNNN.csv (or
    .parquet with format='parquet') per partition and returns the file
    names. lazy=True returns a Dask DataFrame to compute later. progress:
    True for a progress line on stderr, or a callable(done, total)
    called per finished partition.
    """
    files = list_files(paths_or_glob, IMAGE_EXTENSIONS, recursive)
    if not files:
        raise C.InvalidArgument(f"{paths_or_glob}: no image files")
    model_path = None if isinstance(model, (bytes, bytearray, memoryview)) else os.fspath(model)
    if isinstance(card, (str, os.PathLike)):
        card = _images.load_card(os.fspath(card))
    if card is None or not card.height or not card.width:
        probe = InferenceSession(model, threads=1)  # for the input size only
        try:
            if card is None and model_path:
                card = _images.card_for_model(model_path, probe)
            else:
                card = _images.fill_size(dataclasses.replace(card or _images.Card()), probe)
        except ValueError as e:
            raise C.InvalidArgument(str(e)) from None
        finally:
            probe.close()
    label_list = _images.load_labels(labels) if labels else \
        (_images.load_labels(card.labels) if card.labels else [])
    spec = {"mode": "classify", "card": card, "labels": label_list, "top": int(top),
            "batch": int(batch), "threads": threads, "optimize": optimize, "output": output,
            "format": format}
    meta = None
    if lazy:
        import pandas as pd
        meta = pd.DataFrame({c: pd.Series(dtype=("object" if c.startswith(("path", "error",
                                                                             "label"))
                                                  else "int64" if c.startswith("class")
                                                  else "float64"))
                             for c in _classify_columns(int(top))})
    return _drive(files, model, client, spec, partition_size or 8 * int(batch), lazy,
                  _progress_fn(progress), meta)


def map_tensors(paths_or_glob, model, load=None, client=None, batch=32, *, postprocess=None,
                input_name=None, output_names=None, partition_size=None, output=None,
                format="csv", threads=None, optimize=True, lazy=False, meta=None,
                recursive=False, progress=None):
    """Runs a model over files, any kind: load(path) -> one example as a
    numpy array (no batch dimension; default numpy.load for .npy files) is
    stacked into batches and fed to input_name (default the first input).
    Returns a pandas DataFrame in input order: by default a 'path' column
    and one column per output (output_names, default all) holding each
    example's array; with postprocess(paths, outputs) -> DataFrame or list
    of row dicts, whatever it returns, batch after batch. load and
    postprocess run on the workers (module-level functions pickle by name:
    the workers must be able to import them). client, batch,
    partition_size, output/format, threads, lazy (meta: the Dask
    DataFrame's columns), progress: as classify().
    """
    files = list_files(paths_or_glob, None, recursive)
    if not files:
        raise C.InvalidArgument(f"{paths_or_glob}: no files")
    spec = {"mode": "map", "load": load or np.load, "postprocess": postprocess,
            "input_name": input_name, "output_names": list(output_names or []),
            "batch": int(batch), "threads": threads, "optimize": optimize, "output": output,
            "format": format}
    return _drive(files, model, client, spec, partition_size or 8 * int(batch), lazy,
                  _progress_fn(progress), meta)
