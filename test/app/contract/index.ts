// The whole contract, written once; each backend's test file runs it.
import type { Backend } from '../support/backends.ts';
import { actChangesContract } from './act-changes.ts';
import { allModeContract } from './all-mode.ts';
import { categoriesContract } from './categories.ts';
import { httpRulesContract } from './http-rules.ts';
import { listingContract } from './listing.ts';
import { multipartContract } from './multipart.ts';
import { replicaContract } from './replica.ts';
import { sessionsContract } from './sessions.ts';
import { uploadContract } from './upload.ts';
import { usersContract } from './users.ts';

export function contract(backend: Backend): void {
  usersContract(backend);
  sessionsContract(backend);
  categoriesContract(backend);
  uploadContract(backend);
  listingContract(backend);
  actChangesContract(backend);
  multipartContract(backend);
  httpRulesContract(backend);
  replicaContract(backend);
  allModeContract(backend);
}
