"""Times pyreflect's own ReflectivityDataGenerator (pyreflect-nr from PyPI, refl1d's default numba backend).

Usage: python pyreflect_generate.py N
Prints one JSON line: {"curves", "seconds", "curvesPerSecond", "peakRssBytes", "versions"}.
pyreflect/__init__ of the input package imports torch (for its data processor); the generator module itself
does not, so it is loaded from its file to keep torch out of the measurement. Its code runs unmodified.
"""
import importlib.util
import json
import os
import resource
import sys
import time
import warnings

warnings.simplefilter("ignore")
import numpy as np  # noqa: E402
import pyreflect  # noqa: E402
import refl1d  # noqa: E402

path = os.path.join(os.path.dirname(pyreflect.__file__), "input", "reflectivity_data_generator.py")
spec = importlib.util.spec_from_file_location("pyreflect_generator", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

n = int(sys.argv[1])
sys.stdout = open(os.devnull, "w")  # pyreflect prints banners; progress bars go to stderr
sys.stderr = open(os.devnull, "w")
module.ReflectivityDataGenerator(5).generate(20)  # warm-up: numba compiles on first use
start = time.perf_counter()
nr, sld = module.ReflectivityDataGenerator(5).generate(n)
seconds = time.perf_counter() - start
sys.stdout = sys.__stdout__
assert nr.shape == (n, 2, 308) and sld.shape == (n, 2, 900)
from importlib.metadata import version  # noqa: E402

print(json.dumps({
    "curves": n,
    "seconds": seconds,
    "curvesPerSecond": n / seconds,
    "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "versions": {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "refl1d": refl1d.__version__,
        "numba": version("numba"),
        "pyreflect-nr": version("pyreflect-nr"),
        "backend": os.environ.get("REFL1D_BACKEND", "numba"),
    },
}))
