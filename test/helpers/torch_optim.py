"""Runs torch.optim's own AdamW or SGD on one parameter vector with given gradients; prints the final values.

stdin: {"optimizer": "adamw"|"sgd", "p": [...], "grads": [[...], ...], "lr": float, "wd": float, "momentum": float}
"""
import json
import sys

import torch

d = json.loads(sys.stdin.read())
p = torch.nn.Parameter(torch.tensor(d["p"], dtype=torch.float64))
if d["optimizer"] == "adamw":
    opt = torch.optim.AdamW([p], lr=d["lr"], weight_decay=d["wd"])
else:
    opt = torch.optim.SGD([p], lr=d["lr"], weight_decay=d["wd"], momentum=d["momentum"])
for g in d["grads"]:
    opt.zero_grad()
    p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()
print(json.dumps(p.detach().tolist()))
