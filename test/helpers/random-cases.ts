import { linspace, logspaceQ } from '../../src/physics/qgrid.js';
import { SeededRandom } from '../../src/sample/random.js';

/** One oracle case, in the JSON the refl1d oracle script reads. */
export interface OracleCase {
  layers: Array<{ sld: number; isld: number; thickness: number; roughness: number }>;
  q: number[];
  qResolution?: number;
  dq?: number[];
  background: number;
  scale: number;
  profilePoints: number;
  note: string;
}

const FRONTING = [0, 0, 0, 6.36, -0.56, 2.07, 4.66]; // air ×3, D2O, H2O, Si, quartz-like
const SUBSTRATE = [2.07, 2.07, 2.07, -0.56, 6.36, 4.18, 3.47];

/**
 * Seeded random layer models and grids covering what the physics must reproduce: 0–12 film layers,
 * absorption up to 0.2, roughness 0–150 Å with exact zeros, negative SLDs on either side, fronting
 * media other than air, several Q grids, and qResolution 0, default and above.
 */
export function randomOracleCases(count: number, seed: number): OracleCase[] {
  const random = SeededRandom.fromSeed(seed);
  const pick = <T>(values: readonly T[]): T => values[random.integer(0, values.length - 1)]!;
  const cases: OracleCase[] = [];
  for (let k = 0; k < count; k++) {
    const films = k % 13; // every count from 0 to 12, in turn
    const rough = (): number => {
      const r = random.uniform();
      if (r < 0.12) return 0;
      if (r < 0.2) return 150 * random.uniform() ** 0.2; // many large values near 150
      return 60 * random.uniform();
    };
    const layers: OracleCase['layers'] = [];
    layers.push({ sld: pick(SUBSTRATE), isld: random.uniform() < 0.2 ? 0.2 * random.uniform() : 0, thickness: 0, roughness: rough() });
    for (let f = 0; f < films; f++) {
      const negative = random.uniform() < 0.15;
      layers.push({
        sld: negative ? -0.56 - 2 * random.uniform() : 7 * random.uniform(),
        isld: random.uniform() < 0.3 ? 0.2 * random.uniform() : 0,
        thickness: random.uniform() < 0.05 ? 0 : 5 + 300 * random.uniform(),
        roughness: rough(),
      });
    }
    layers.push({ sld: pick(FRONTING), isld: random.uniform() < 0.1 ? 0.1 * random.uniform() : 0, thickness: 0, roughness: rough() });
    let q: Float64Array;
    const gridKind = k % 4;
    if (gridKind === 0) q = logspaceQ(0.0081, 0.1975, 308);
    else if (gridKind === 1) q = logspaceQ(0.005 + 0.01 * random.uniform(), 0.15 + 0.2 * random.uniform(), 50 + random.integer(0, 400));
    else if (gridKind === 2) q = linspace(0.008 + 0.005 * random.uniform(), 0.25, 100 + random.integer(0, 300));
    else q = logspaceQ(0.002, 0.3, 200);
    const resolutionKind = k % 5;
    const qResolution = resolutionKind === 0 ? 0 : resolutionKind === 1 ? 0.0294855 : resolutionKind === 2 ? 0.08 : 0.2 * random.uniform();
    cases.push({
      layers,
      q: Array.from(q),
      qResolution,
      background: random.uniform() < 0.5 ? 0 : 1e-6 * random.uniform(),
      scale: random.uniform() < 0.5 ? 1 : 0.8 + 0.4 * random.uniform(),
      profilePoints: k % 7 === 0 ? 100 + random.integer(0, 1500) : 900,
      note: `case ${k}: ${films} film layers, grid ${gridKind}, qResolution ${qResolution.toFixed(4)}`,
    });
  }
  return cases;
}
