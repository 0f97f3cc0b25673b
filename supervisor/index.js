#!/usr/bin/env node
// The `selflessacts` command (package.json "bin") and what Node runs for the directory
// (`node supervisor`: a directory's index.js; `tsx supervisor` finds it too). Plain JavaScript,
// so it runs before any TypeScript loader: it registers tsx (Node's own type stripping refuses
// our parameter properties), then hands over to main.ts.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `selflessacts needs Node.js 24 or later; this is ${process.version} (${process.execPath}).\n` +
      'Run it as `npx selflessacts`, `npm start` or node_modules/.bin/node supervisor: npm ci installs Node 24 there.\n',
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
