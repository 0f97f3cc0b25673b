// Worker threads do not inherit tsx's loader on Node 20 (`execArgv: ['--import', 'tsx']` does
// not reach the worker's ESM loader in time), so each worker starts here: register tsx in this
// thread, then import the TypeScript entry named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
