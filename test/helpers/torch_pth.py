"""PyTorch side of the .pth tests: pyreflect's own CNN class, torch.save / torch.load, crafted pickles.

Runs in .cache/python-torch (test/setup/python-torch.ts). pyreflect's CNN class is loaded from its file
(pyreflect/models/cnn.py), as benchmarks/pytorch_train.py does, because pyreflect.models' __init__ imports
its CLI dependencies (typer), which are not installed.

  python torch_pth.py <command> [args...]    (prints JSON on stdout where a command returns something)
"""
import importlib.util
import json
import os
import pickle
import sys
import zipfile

import numpy as np

# torch and pyreflect take seconds to import: only the commands that need them do (see main()).
torch = None
pyreflect_cnn = None


def load_torch():
    global torch, pyreflect_cnn
    import pyreflect
    import torch as torch_module

    torch = torch_module
    spec = importlib.util.spec_from_file_location("pyreflect_cnn", os.path.join(os.path.dirname(pyreflect.__file__), "models", "cnn.py"))
    pyreflect_cnn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pyreflect_cnn)


def cnn(layers, q=308, p=900):
    """pyreflect's CNN(layers, dropout=0); with q/p other than 308/900 its linear1 is replaced (keys unchanged)."""
    model = pyreflect_cnn.CNN(layers, 0.0)
    if (q, p) != (308, 900):
        model.linear1 = torch.nn.Linear(256 * q, 2 * p)
    return model


def randomise_batchnorm(model, seed):
    """BatchNorm weights and running statistics away from their defaults (1, 0, 0, 1), so a swap would show."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            n = module.num_features
            with torch.no_grad():
                module.weight.copy_(0.5 + torch.rand(n, generator=g))
                module.bias.copy_(0.4 * torch.rand(n, generator=g) - 0.2)
                module.running_mean.copy_(0.2 * torch.rand(n, generator=g) - 0.1)
                module.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=g))
                module.num_batches_tracked.fill_(17)


def predict(model, x_path, y_path, q):
    x = np.fromfile(x_path, dtype=np.float32).reshape(-1, 1, q)
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy().astype(np.float32)
    y.tofile(y_path)


class Evil:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command not in ("evil-pickle", "pickle", "loads", "save-stats", "save-stats-numpy-scalars", "save-evil-npy"):
        load_torch()
    if command == "save-cnn":
        # save-cnn OUT LAYERS SEED [X Y]: pyreflect's CNN, BatchNorm randomised, torch.save(state_dict); predicts X → Y.
        out, layers, seed = args[0], int(args[1]), int(args[2])
        torch.manual_seed(seed)
        model = cnn(layers)
        randomise_batchnorm(model, seed)
        torch.save(model.state_dict(), out)
        if len(args) > 3:
            predict(model, args[3], args[4], 308)
    elif command == "save-small-cnn":
        # save-small-cnn OUT LAYERS Q P SEED: a CNN-shaped state_dict with a small head (for CLI plumbing).
        out, layers, q, p, seed = args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4])
        torch.manual_seed(seed)
        model = cnn(layers, q, p)
        randomise_batchnorm(model, seed)
        torch.save(model.state_dict(), out)
    elif command == "predict-pth":
        # predict-pth PTH LAYERS X Y: load into pyreflect's CNN (strict, weights_only) and predict.
        model = cnn(int(args[1]))
        result = model.load_state_dict(torch.load(args[0], weights_only=True), strict=True)
        predict(model, args[2], args[3], 308)
        print(json.dumps({"missing": result.missing_keys, "unexpected": result.unexpected_keys}))
    elif command == "layouts":
        # layouts LAYERS...: pyreflect's state_dict keys, shapes, dtypes and _metadata (meta device: no memory),
        # {layers: {"layout": [[key, shape, dtype]...], "metadata": [[prefix, fields]...]}}.
        out = {}
        for layers in args:
            with torch.device("meta"):
                sd = cnn(int(layers)).state_dict()
            out[layers] = {"layout": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()],
                           "metadata": [[k, v] for k, v in sd._metadata.items()]}
        print(json.dumps(out))
    elif command == "load":
        # load PTH: what torch.load(weights_only=True) finds, values included; mmap with computed offsets too.
        sd = torch.load(args[0], weights_only=True)
        from torch.utils.serialization import config

        config.load.calculate_storage_offsets = True
        os.environ["TORCH_SERIALIZATION_DEBUG"] = "1"  # asserts that computed offsets equal the directory's
        mapped = torch.load(args[0], weights_only=True, mmap=True)
        same = all(torch.equal(sd[k], mapped[k]) for k in sd)
        bad_crc = zipfile.ZipFile(args[0]).testzip()
        print(json.dumps({
            "tensors": [[k, str(v.dtype).replace("torch.", ""), list(v.shape), v.double().flatten().tolist()] for k, v in sd.items()],
            "metadata": [[k, v] for k, v in getattr(sd, "_metadata", {}).items()],
            "mmapSame": same,
            "badCrc": bad_crc,
        }))
    elif command == "equal":
        # equal A B: whether two state_dicts hold the same keys, dtypes, shapes and values.
        a = torch.load(args[0], weights_only=True)
        b = torch.load(args[1], weights_only=True)
        diff = [k for k in a if k not in b or a[k].dtype != b[k].dtype or not torch.equal(a[k], b[k])]
        print(json.dumps({"keysA": list(a), "keysB": list(b), "different": diff}))
    elif command == "save-mixed":
        # save-mixed OUT: dtypes, a transposed view, a slice with a storage offset, shared and empty tensors.
        base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5
        sd = {
            "f32": base,
            "f64": torch.tensor([1.0 / 3, -2.5e-7, 1e30], dtype=torch.float64),
            "f16": torch.tensor([0.1, -65504.0, 6e-8, 1.5], dtype=torch.float16),
            "bf16": torch.tensor([0.1, -3.0e38, 2.0], dtype=torch.bfloat16),
            "i64": torch.tensor([0, -5, 2**40], dtype=torch.int64),
            "i32": torch.tensor([[7, -8]], dtype=torch.int32),
            "transposed": base.t(),
            "slice": base.flatten()[5:9],
            "row": base[1],
            "scalar": torch.tensor(2.5),
            "empty": torch.zeros(0, 3),
        }
        torch.save(sd, args[0])
        print(json.dumps([[k, str(v.dtype).replace("torch.", ""), list(v.shape), v.double().flatten().tolist()] for k, v in sd.items()]))
    elif command == "save-legacy":
        torch.save({"w": torch.ones(2)}, args[0], _use_new_zipfile_serialization=False)
    elif command == "save-checkpoint":
        # save-checkpoint OUT: a training checkpoint dict, not a state_dict.
        torch.save({"epoch": 3, "w": torch.ones(2)}, args[0])
    elif command == "save-evil":
        # save-evil OUT MARKER: a .pth whose data.pkl runs `touch MARKER` under torch.load(weights_only=False).
        torch.save({"w": torch.ones(2), "payload": Evil(args[1])}, args[0])
    elif command == "evil-pickle":
        # evil-pickle MARKER: the hex of pickles (protocols 2 and 4) that run `touch MARKER`.
        print(json.dumps({p: pickle.dumps(Evil(args[0]), protocol=p).hex() for p in (2, 4)}))
    elif command == "pickle":
        # pickle: plain data pickled with protocols 2 to 5, as hex.
        # Protocol 2 pickles bytes as a call of _codecs.encode (a global): bytes only from protocol 3 on.
        def data(protocol):
            return {"s": "héllo ✓", "i": [0, 255, 256, 65535, 65536, -1, 2**31 - 1, -(2**31), 2**31, 2**62, -(2**70)],
                    "f": [0.5, -1e-300, float("inf")], "t": (1, (2, 3), ()), **({"b": b"\x00\xff"} if protocol >= 3 else {}),
                    "n": None, "yes": True, "no": False, "nested": {"a": [{"b": 1}], 3: "int key"}}

        print(json.dumps({p: pickle.dumps(data(p), protocol=p).hex() for p in (2, 3, 4, 5)}))
    elif command == "loads":
        # loads HEX: what Python's pickle makes of bytes (reflectkit's writer); repr as JSON.
        value = pickle.loads(bytes.fromhex(args[0]))
        print(json.dumps(repr(value)))
    elif command == "save-stats":
        # save-stats OUT: pyreflect's normalization_stat.npy (its preprocess() code path: np.save of the dict).
        stats = {"nr": {"x": {"min": 0.0081, "max": 0.1975}, "y": {"min": -7.5, "max": 0.0}},
                 "sld": {"x": {"min": 0.0, "max": 450.25}, "y": {"min": -0.5, "max": 6.36}}}
        np.save(args[0], stats, allow_pickle=True)
    elif command == "save-stats-numpy-scalars":
        # save-stats-numpy-scalars OUT: the same layout with numpy float64 scalars (np.min without float()).
        a = np.array([[[0.0081, 0.1975], [-7.5, 0.0]]])
        stats = {"nr": {"x": {"min": a[:, 0].min(), "max": a[:, 0].max()}, "y": {"min": a[:, 1].min(), "max": a[:, 1].max()}},
                 "sld": {"x": {"min": np.float64(0.0), "max": np.float64(450.25)}, "y": {"min": np.float64(-0.5), "max": np.float64(6.36)}}}
        np.save(args[0], stats, allow_pickle=True)
    elif command == "save-evil-npy":
        # save-evil-npy OUT MARKER: an object .npy whose np.load(allow_pickle=True) runs `touch MARKER`.
        np.save(args[0], np.array(Evil(args[1]), dtype=object), allow_pickle=True)
    else:
        raise SystemExit(f"unknown command {command}")


main()
