// The API contract (spec rows 1-24) on the embedded SQLite store.
import { describe } from 'node:test';
import { contract } from './contract/index.ts';
import { sqliteBackend } from './support/backends.ts';

const backend = sqliteBackend();
describe('contract on SQLite', { skip: backend.skip }, () => contract(backend));
