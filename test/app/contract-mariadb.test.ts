// The API contract (spec rows 1-24) on MariaDB: a fresh selfless_<random> database per group.
import { describe } from 'node:test';
import { contract } from './contract/index.ts';
import { mariadbBackend } from './support/backends.ts';

const backend = await mariadbBackend();
describe('contract on MariaDB', { skip: backend.skip }, () => contract(backend));
