"""Runs pyreflect's own compute_nr_from_sld (pyreflect-nr, pipelines/helper.py) on profiles from stdin.

pyreflect's helper module imports refnx at load for another function; compute_nr_from_sld does not use it,
so an empty stand-in module is registered before loading the file. The package __init__ (which imports
torch) is bypassed by loading helper.py by path.
Input: {"cases": [{"z": [...], "sld": [...], "q": [...]}], "kwargs": {...}}. Output: {"R": [[...], ...]}.
"""
import importlib.util
import json
import sys
import types

import pyreflect  # noqa: F401  (only to find the installed package's folder; its __init__ is light)

refnx = types.ModuleType("refnx")
refnx_reflect = types.ModuleType("refnx.reflect")
refnx_reflect.SLD = None
refnx_reflect.ReflectModel = None
refnx.reflect = refnx_reflect
sys.modules.setdefault("refnx", refnx)
sys.modules.setdefault("refnx.reflect", refnx_reflect)

import os

path = os.path.join(os.path.dirname(pyreflect.__file__), "pipelines", "helper.py")
spec = importlib.util.spec_from_file_location("pyreflect_helper", path)
helper = importlib.util.module_from_spec(spec)
spec.loader.exec_module(helper)

import numpy as np

request = json.load(sys.stdin)
out = []
for case in request["cases"]:
    _, R = helper.compute_nr_from_sld((np.array(case["z"]), np.array(case["sld"])), Q=np.array(case["q"]), **request.get("kwargs", {}))
    out.append([float(v) for v in R])
json.dump({"R": out}, sys.stdout)
