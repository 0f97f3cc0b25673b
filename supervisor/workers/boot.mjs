// Worker threads started under the tsx CLI (`tsx supervisor/main.ts`) do not get its loader
// (checked on Node 24: "Unknown file extension .ts"), and Node's own type stripping refuses our
// parameter properties, so each worker starts here: register tsx in this thread, then import
// the TypeScript entry named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
