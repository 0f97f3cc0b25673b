// Entry point of the `selflessacts` command (supervisor/index.js is its launcher; `tsx
// supervisor`, `node supervisor` and `tsx supervisor/main.ts` all end here): `start` by default,
// so `tsx supervisor/main.ts --config FILE` runs the supervisor as it always did.
import { runCli } from './cli/program.ts';

process.exitCode = await runCli(process.argv.slice(2));
