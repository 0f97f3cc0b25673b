// Stack traces from the bundle, named in TypeScript: `--enable-source-maps` would do it for every
// error, at the price of the parsed map held by every replica from its first line on (27 MB of a
// 55 MB idle replica, measured: bench:footprint). Errors worth a stack are rare, so the map is
// read only when one is logged, and let go a minute after the last.
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How long a loaded map is kept for the next error. */
const KEEP_MS = 60_000;

const maps = new Map<string, { map: SourceMap | null; drop: NodeJS.Timeout }>();

/** The map of a generated file (its `.map` sibling), or null when it has none or it cannot be read. */
function mapOf(file: string): SourceMap | null {
  const held = maps.get(file);
  if (held) {
    held.drop.refresh();
    return held.map;
  }
  let map: SourceMap | null = null;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
  } catch {
    map = null; // run from the sources (tsx), or a bundle without its map: the stack as it is
  }
  const drop = setTimeout(() => maps.delete(file), KEEP_MS);
  drop.unref();
  maps.set(file, { map, drop });
  return map;
}

// "    at name (file:///dir/dist/app.mjs:12:34)" or "    at file:///dir/dist/app.mjs:12:34"
const FRAME = /^(\s+at (?:.*? \()?)((?:file:\/\/)?\/[^():]+\.mjs):(\d+):(\d+)(\)?)$/;

/** `stack` with each frame in a bundle that has a source map named by its source file and line. */
export function mapStack(stack: string): string {
  return stack
    .split('\n')
    .map((line) => {
      const frame = FRAME.exec(line);
      if (!frame) return line;
      const [, head, location, lineText, columnText, tail] = frame as unknown as string[];
      const file = location!.startsWith('file://') ? fileURLToPath(location!) : location!;
      const map = mapOf(file);
      const entry = map?.findEntry(Number(lineText) - 1, Number(columnText) - 1);
      if (!entry || !('originalSource' in entry)) return line;
      const source = new URL(entry.originalSource, pathToFileURL(file));
      const named = source.protocol === 'file:' ? fileURLToPath(source) : source.href;
      return `${head}${named}:${entry.originalLine + 1}:${entry.originalColumn + 1}${tail}`;
    })
    .join('\n');
}
