#!/usr/bin/env python3
"""qvalues.py - recomputes, from a checkpoint alone, the Q-values that
`equigrid qvalues CKPT --map MAP` prints: numpy only, or with --torch the
networks loaded into torch.nn.Sequential by load_state_dict.

    python3 tools/qvalues.py CKPT MAP [--torch]

CKPT is a checkpoint.safetensors (or an `equigrid export` of one), MAP an ASCII
map ('#' wall, '.' floor, 'A' agent, 'G' goal, 'L' lava; the agent stands on
the first 'A'). Prints one JSON line: {"q": [Q_G per action], "method": ...,
"weights": [the weight of each group element's view]}. Every method:
none, equitune, equizero (proxy maxq or entropy), lambda (softplus or softmax)
and canonical. MLP and CNN networks are read from the tensor names and shapes
(`q.{i}.weight` at nn.Sequential index i; ReLU between layers, Flatten between
a CNN's last conv and its first Linear).
"""
import configparser
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "U8": np.uint8, "U32": np.uint32, "I64": np.int64}
GROUPS = {"trivial": [0], "flip": [0, 4], "rot180": [0, 2], "rot90": [0, 1, 2, 3], "d4": list(range(8))}


def load_safetensors(path):
    """Returns ({name: array}, metadata dict) of a safetensors file."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, v in header.items():
        begin, end = v["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + n + begin:8 + n + end], DTYPES[v["dtype"]]).reshape(v["shape"])
    return tensors, meta


def layers(t, prefix):
    """The nn.Sequential layers under prefix: [(index, weight, bias)] in order."""
    idx = sorted(int(k[len(prefix):].split(".")[0]) for k in t if k.startswith(prefix) and k.endswith(".weight"))
    return [(i, t[f"{prefix}{i}.weight"], t[f"{prefix}{i}.bias"]) for i in idx]


def conv3x3(x, w, b):
    """3x3 convolution, stride 1, padding 1: x (C, N, N), w (O, C, 3, 3)."""
    n = x.shape[1]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    patches = np.stack([np.stack([xp[:, dy:dy + n, dx:dx + n] for dx in range(3)], 1) for dy in range(3)], 1)
    return np.einsum("oikl,iklrc->orc", w, patches) + b[:, None, None]


def forward_numpy(t, prefix, x):
    """The network under prefix on planes x (C, N, N): ReLU between layers."""
    net = layers(t, prefix)
    for j, (_, w, b) in enumerate(net):
        if w.ndim == 4:
            x = conv3x3(x, w, b)
        else:
            x = x.reshape(-1) @ w.T + b
        if j + 1 < len(net):
            x = np.maximum(x, 0)
    return x


def sequential_torch(t, prefix):
    """torch.nn.Sequential with the checkpoint's layout, filled by load_state_dict."""
    import torch
    mods, net = [], layers(t, prefix)
    for j, (i, w, _) in enumerate(net):
        if j > 0:
            gap = i - net[j - 1][0] - 1  # ReLU, and Flatten after the last conv
            mods += [torch.nn.ReLU()] + [torch.nn.Flatten()] * (gap - 1)
        if w.ndim == 4:
            mods.append(torch.nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1))
        else:
            mods.append(torch.nn.Linear(w.shape[1], w.shape[0]))
    seq = torch.nn.Sequential(*mods)
    state = {k[len(prefix):]: torch.from_numpy(v.copy()) for k, v in t.items() if k.startswith(prefix)}
    seq.load_state_dict(state, strict=True)
    conv = net[0][1].ndim == 4

    def run(x):
        with torch.no_grad():
            xt = torch.from_numpy(np.ascontiguousarray(x, np.float32))
            return seq(xt[None] if conv else xt.reshape(1, -1))[0].numpy()
    return run


def read_map(path, planes):
    """Planes (C, N, N) of an ASCII map: wall, agent, goal, lava."""
    rows = [r for r in open(path).read().splitlines() if r]
    n = len(rows)
    x = np.zeros((planes, n, n), np.float32)
    agent = False
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            k = {"#": 0, "G": 2, "L": 3}.get(ch)
            if ch == "A" and not agent:
                k, agent = 1, True
            if k is not None:
                if k >= planes:
                    sys.exit(f"{path}:{r + 1}:{c + 1}: '{ch}' but the network takes {planes} planes")
                x[k, r, c] = 1
    return x


def transform(x, g):
    """Element g = 4f + k: mirror left-right if f, then k quarter turns counter-clockwise."""
    return np.rot90(x[:, :, ::-1] if g >= 4 else x, g & 3, axes=(1, 2))


def rho(g, a):
    """The element's permutation of the actions UP, RIGHT, DOWN, LEFT (STAY fixed)."""
    if a > 3:
        return a
    if g >= 4 and a % 2:
        a = 4 - a
    return (a + 3 * (g & 3)) % 4


def main(argv):
    use_torch = "--torch" in argv
    args = [a for a in argv if a != "--torch"]
    if len(args) != 2:
        sys.exit("usage: qvalues.py CHECKPOINT MAP [--torch]")
    t, meta = load_safetensors(args[0])
    cfg = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    cfg.read_string(meta["config"])
    sym = cfg["symmetry"] if cfg.has_section("symmetry") else {}
    method = sym.get("method", "none")
    first = layers(t, "q.")[0][1]
    probe = open(args[1]).read().split()
    n = len(probe[0])
    planes = first.shape[1] if first.ndim == 4 else first.shape[1] // (n * n)
    x = read_map(args[1], planes)
    net = {p: sequential_torch(t, p) if use_torch else (lambda v, p=p: forward_numpy(t, p, v))
           for p in ("q.", "lambda.", "canon.") if f"{p}0.weight" in t}
    if method == "none":
        print(json.dumps({"q": [float(v) for v in net["q."](x)], "method": method}))
        return
    group = sym.get("group", "d4")
    elems = GROUPS[group] if group in GROUPS else sorted(int(e) for e in group.split(","))
    views = [transform(x, g) for g in elems]
    base = [net["q."](v) for v in views]
    qs = np.array([[q[rho(g, a)] for a in range(len(q))] for g, q in zip(elems, base)])  # views mapped back
    if method == "equitune":
        w = np.full(len(elems), 1.0 / len(elems))
    elif method == "equizero":
        if sym.get("proxy", "maxq") == "entropy":
            z = qs - qs.max(1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
            loss = np.log(np.exp(z).sum(1)) - (p * z).sum(1)
        else:
            loss = -qs.max(1)
        w = np.eye(len(elems))[int(np.argmin(loss))]  # ties to the lowest index
    elif method == "lambda":
        z = np.array([net["lambda."](v)[0] for v in views], np.float64)
        if sym.get("lambda_norm", "softplus") == "softmax":
            w = np.exp(z - z.max())
        else:
            w = np.logaddexp(0, z) + 1e-6
        w = w / w.sum()
    elif method == "canonical":
        s = np.array([net["canon."](v)[0] for v in views])
        w = np.eye(len(elems))[int(np.argmax(s))]  # ties to the lowest index
    else:
        sys.exit(f"{args[0]}: [symmetry] method = {method}: not known to this script")
    print(json.dumps({"q": [float(v) for v in w @ qs], "method": method, "weights": [float(v) for v in w]}))


if __name__ == "__main__":
    main(sys.argv[1:])
