// Express's own compiler for the 'trust proxy' setting (its dependency proxy-addr), so a test
// checks the very function req.secure consults.
import { createRequire } from 'node:module';

const requireFromExpress = createRequire(createRequire(import.meta.url).resolve('express'));
const proxyAddr = requireFromExpress('proxy-addr') as {
  compile(value: string | string[]): (address: string, hop: number) => boolean;
};

export function compileTrust(setting: string): (address: string, hop: number) => boolean {
  return proxyAddr.compile(setting.split(',').map((s) => s.trim()));
}
