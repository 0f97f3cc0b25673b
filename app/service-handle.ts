import type { Router } from 'express';
import type { HealthProbe } from './http/replica.ts';

/** What the server needs from a service: routes, a health probe, and a way to let go. */
export interface ServiceHandle {
  name: 'users' | 'acts';
  router: Router;
  probe: HealthProbe;
  /** Where its data lives, for the start log line. */
  storage: string;
  close(): Promise<void>;
}
