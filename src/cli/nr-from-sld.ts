import { writeFileAtomic } from '../io/atomic-file.node.js';
import { computeNrFromSld, parseNrFromSldRequest } from '../eval/nr-from-sld.js';
import { readJsonFile } from './io.js';

/**
 * `reflectkit nr-from-sld --profile profile.json [--out file.json]`: R(Q) of an SLD profile (microslabs,
 * the generator's kernel and resolution). Prints or writes `{"q": [...], "R": [...], "fronting", "backing"}`.
 */
export async function nrFromSldCommand(flags: { profile: string; out?: string }): Promise<void> {
  const { profile, options } = parseNrFromSldRequest(await readJsonFile(flags.profile));
  const result = computeNrFromSld(profile, options);
  const text = `${JSON.stringify({
    q: Array.from(result.q),
    R: Array.from(result.reflectivity),
    fronting: result.fronting,
    backing: result.backing,
  })}\n`;
  if (flags.out === undefined) process.stdout.write(text);
  else await writeFileAtomic(flags.out, text);
}
