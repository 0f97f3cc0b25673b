// Owner access mode, sessions, cross-site refusal and hostile bodies on the embedded SQLite store.
import { describe } from 'node:test';
import { sqliteBackend } from './support/backends.ts';
import { beyondContract } from './beyond/index.ts';

const backend = sqliteBackend();
describe('beyond the contract on SQLite', { skip: backend.skip }, () => beyondContract(backend));
