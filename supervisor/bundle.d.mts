// Types of supervisor/bundle.mjs (plain JavaScript: it runs before any TypeScript loader).
export const ROOT: string;
export const OUT_DIR: string;
/** dist/supervisor/main.mjs: the command's bundled entry. */
export const MAIN: string;
export function sourcesHash(): string;
export function bundleIsCurrent(hash?: string): boolean;
/** Builds dist/supervisor; resolves to the milliseconds it took. */
export function buildBundle(hash?: string): Promise<number>;
