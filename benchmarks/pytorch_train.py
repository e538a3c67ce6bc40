"""Trains pyreflect's own CNN (pyreflect-nr's pyreflect/models/cnn.py, loaded from its file so that only torch
is needed) with PyTorch on the benchmark's normalised arrays, the way pyreflect's trainer does: Adam with
coupled weight decay (learning rate and decay given), MSELoss, shuffled batches of 32, validation loss as the mean of batch losses in eval mode.

Usage: python pytorch_train.py DATA_DIR LAYERS EPOCHS BUDGET_SECONDS LR WEIGHT_DECAY [THREADS] [DEVICE] [SEED]
Prints one JSON line per epoch and a summary line, like benchmarks/train-run.mjs.
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
import pyreflect

data_dir, layers, epochs, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
lr, weight_decay = float(sys.argv[5]), float(sys.argv[6])
threads = int(sys.argv[7]) if len(sys.argv) > 7 else os.cpu_count()
device = sys.argv[8] if len(sys.argv) > 8 else "cpu"
seed = int(sys.argv[9]) if len(sys.argv) > 9 else 1
torch.set_num_threads(threads)
torch.manual_seed(seed)

spec = importlib.util.spec_from_file_location("pyreflect_cnn", os.path.join(os.path.dirname(pyreflect.__file__), "models", "cnn.py"))
cnn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cnn)

def load(name, shape):
    return torch.from_numpy(np.load(os.path.join(data_dir, name)).astype(np.float32).reshape(shape))

train_x = load("train_x.npy", (-1, 1, 308))
train_y = load("train_y.npy", (-1, 2, 900))
val_x = load("val_x.npy", (-1, 1, 308))
val_y = load("val_y.npy", (-1, 2, 900))
model = cnn.CNN(layers, 0.0).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
loss_fn = torch.nn.MSELoss()
train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_x, train_y), batch_size=32, shuffle=True,
                                    generator=torch.Generator().manual_seed(seed))
val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(val_x, val_y), batch_size=32, shuffle=False)
start = time.perf_counter()
for epoch in range(1, epochs + 1):
    began = time.perf_counter()
    model.train()
    losses = []
    for x, y in train:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        val_losses = [loss_fn(model(x.to(device)), y.to(device)).item() for x, y in val]
    now = time.perf_counter()
    print(json.dumps({"epoch": epoch, "seconds": now - start, "epochSeconds": now - began,
                      "trainLoss": sum(losses) / len(losses), "valLoss": sum(val_losses) / len(val_losses)}), flush=True)
    if now - start > budget:
        break
print(json.dumps({"summary": True, "backend": f"PyTorch {torch.__version__} ({device}, {threads} threads)", "engine": "this thread",
                  "parameters": sum(p.numel() for p in model.parameters()), "trainSamples": len(train_x)}))
