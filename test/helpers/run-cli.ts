/**
 * Runs the `reflectkit` command from the sources (`node --import tsx test/helpers/run-cli.ts …`), for CLI
 * tests that should not depend on a fresh build of dist/.
 */
import { runCli } from '../../src/cli/main.js';

process.exitCode = await runCli(process.argv);
