// Beyond the contract: owner access mode, revocable sessions, cross-site refusal, and the
// body limits, listings and lookups under hostile input. Each backend's test file runs it.
import type { Backend } from '../support/backends.ts';
import { accounts } from './accounts.ts';
import { imageWork } from './image-work.ts';
import { names } from './names.ts';
import { comments } from './comments.ts';
import { crossSite } from './cross-site.ts';
import { finding } from './finding.ts';
import { hostileBodies } from './limits.ts';
import { ownerRules } from './owner-rules.ts';
import { photoRoutes } from './photos.ts';
import { previews } from './previews.ts';
import { profile } from './profile.ts';
import { sessionRevocation } from './sessions.ts';

export function beyondContract(backend: Backend): void {
  ownerRules(backend);
  accounts(backend);
  names(backend);
  sessionRevocation(backend);
  crossSite(backend);
  hostileBodies(backend);
  photoRoutes(backend);
  imageWork(backend);
  finding(backend);
  comments(backend);
  profile(backend);
  previews(backend);
}
