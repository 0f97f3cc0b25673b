// `selflessacts engine-guard`: the guard as a long-running process, until SIGTERM or SIGINT.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../core/log.ts';
import { EngineGuard } from './server.ts';

export async function runEngineGuard(options: {
  listen: string;
  engine: string;
  bindRoots: string[];
  ownerLabel: string;
}): Promise<number> {
  const logger = createLogger({ bindings: { component: 'engine-guard' } });
  if (options.bindRoots.length === 0) logger.warn('no --bind-root: no container may have a bind mount');
  const guard = new EngineGuard({
    listen: options.listen,
    engine: options.engine,
    policy: { bindRoots: options.bindRoots.map(resolved), ownerLabel: options.ownerLabel },
    logger,
  });
  await guard.listen();
  logger.info('engine guard listening', {
    listen: options.listen,
    engine: options.engine,
    bindRoots: options.bindRoots,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await guard.close();
  logger.info('engine guard stopped');
  return 0;
}

/** A root as the engine will see it: links resolved, when it exists yet. */
function resolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}
