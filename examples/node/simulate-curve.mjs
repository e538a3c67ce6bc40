// One reflectivity curve and SLD profile for a layer model (refl1d's physics), printed as a small table.
// Run: node examples/node/simulate-curve.mjs
import { simulateModel } from 'reflectkit';

const model = {
  // pyreflect layer_desc order: substrate first, incident medium (air) last. SLD in 1e-6 Å⁻², lengths in Å.
  layers: [
    { name: 'silicon', sld: 2.07, thickness: 0, roughness: 3 },
    { name: 'polymer', sld: 1.2, thickness: 250, roughness: 8 },
    { name: 'air', sld: 0, thickness: 0, roughness: 0 },
  ],
  q: { min: 0.008, max: 0.2, points: 12 },
  qResolution: 0.0294855, // dQ/Q, FWHM (pyreflect's default)
};

const { q, R, z, sld } = simulateModel(model);
console.log('Q (1/Å)      R');
q.forEach((qi, i) => console.log(`${qi.toFixed(5)}   ${R[i].toExponential(4)}`));
console.log(`profile: ${z.length} points from z = ${z[0].toFixed(1)} Å (SLD ${sld[0].toFixed(3)}) to ${z.at(-1).toFixed(1)} Å (SLD ${sld.at(-1).toFixed(3)})`);
