// Owner access mode, sessions, cross-site refusal and hostile bodies on MariaDB.
import { describe } from 'node:test';
import { mariadbBackend } from './support/backends.ts';
import { beyondContract } from './beyond/index.ts';

const backend = await mariadbBackend();
describe('beyond the contract on MariaDB', { skip: backend.skip }, () => beyondContract(backend));
