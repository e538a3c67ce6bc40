"""refl1d as the physics oracle.

Reads {"cases": [...]} on stdin; each case has "layers" (substrate first, air last: sld, isld, thickness,
roughness), "q", either "dq" (1-sigma) or "qResolution" (FWHM fraction, dq = qResolution*q/2.355),
"background", "scale" and "profilePoints". For each case it builds the same refl1d objects that
pyreflect's calculate_reflectivity builds (Slab | Slab | ..., QProbe, Experiment) and prints:
R (|r|^2 before resolution), r_final (scale * expt.reflectivity()), z/sld (smooth_profile resampled with
np.linspace + np.interp), and the raw profile's length and ends. The substrate gets its isld (pyreflect
drops it; reflectkit keeps it, which is what refl1d computes).
"""
import json
import sys
import warnings

import numpy as np
from refl1d.names import SLD, Slab, QProbe, Experiment
from bumps.parameter import Parameter

warnings.simplefilter("ignore")


def run(case):
    layers = case["layers"]
    q = np.asarray(case["q"], dtype=float)
    if "dq" in case:
        dq = np.asarray(case["dq"], dtype=float)
    else:
        dq = case["qResolution"] * q / 2.355
    probe = QProbe(q, dq)
    first = layers[0]
    sample = Slab(material=SLD(name="L0", rho=first["sld"], irho=first.get("isld", 0.0)), interface=first["roughness"])
    for k, layer in enumerate(layers[1:], start=1):
        sample = sample | Slab(
            material=SLD(name=f"L{k}", rho=layer["sld"], irho=layer.get("isld", 0.0)),
            thickness=layer["thickness"],
            interface=layer["roughness"],
        )
    probe.background = Parameter(value=case.get("background", 0.0), name="background")
    expt = Experiment(probe=probe, sample=sample)
    calc_q, amplitude = expt._reflamp()
    unsmeared = np.abs(amplitude) ** 2
    _, r = expt.reflectivity()
    z, sld, _ = expt.smooth_profile()
    points = case.get("profilePoints", 900)
    z_new = np.linspace(z[0], z[-1], num=points)
    sld_new = np.interp(z_new, z, sld)
    return {
        "calcQ": calc_q.tolist(),
        "R": unsmeared.tolist(),
        "r_final": (case.get("scale", 1.0) * r).tolist(),
        "z": z_new.tolist(),
        "sld": sld_new.tolist(),
        "nz": int(len(z)),
        "z0": float(z[0]),
        "z1": float(z[-1]),
    }


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump({"results": [run(c) for c in cases]}, sys.stdout)


if __name__ == "__main__":
    main()
