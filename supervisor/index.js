#!/usr/bin/env node
// The `selflessacts` command (package.json "bin") and what Node runs for the directory
// (`node supervisor`: a directory's index.js). Plain JavaScript, so it runs before any loader.
// In production it runs the supervisor's bundle (dist/supervisor/, supervisor/bundle.mjs):
// plain JavaScript in every thread, no TypeScript loader, no esbuild process; the bundle is
// checked against the sources (built by `npm ci`, rebuilt here when they changed and the
// directory is writable). Under a TypeScript loader (`tsx supervisor`, `node --import tsx
// supervisor`) it runs the sources instead, for development, as `tsx supervisor/main.ts` does.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `selflessacts needs Node.js 24 or later; this is ${process.version} (${process.execPath}).\n` +
      'Run it as `npx selflessacts`, `npm start` or node_modules/.bin/node supervisor: npm ci installs Node 24 there.\n',
  );
  process.exit(1);
}
const underTsx = process.execArgv.some((arg) => arg.includes('tsx'));
if (underTsx) {
  await import('./main.ts');
} else {
  const { pathToFileURL } = await import('node:url');
  const bundle = await import('./bundle.mjs');
  const hash = bundle.sourcesHash();
  if (!bundle.bundleIsCurrent(hash)) {
    try {
      const ms = await bundle.buildBundle(hash);
      process.stderr.write(
        `selflessacts: the supervisor's bundle (dist/supervisor) was out of date: rebuilt in ${ms} ms\n`,
      );
    } catch (err) {
      const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
      const why =
        code === 'EACCES' || code === 'EROFS' || code === 'EPERM'
          ? 'this user cannot write there'
          : err instanceof Error
            ? err.message
            : String(err);
      process.stderr.write(
        `selflessacts: the supervisor's bundle (dist/supervisor) is missing or older than the sources, and it cannot be built here (${why}). ` +
          "Build it as the checkout's owner: `npm ci`, or `node supervisor/bundle.mjs`.\n",
      );
      process.exit(1);
    }
  }
  await import(pathToFileURL(bundle.MAIN).href);
}
