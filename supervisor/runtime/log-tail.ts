// The last lines of a replica's output: enough to say why it failed, each line bounded so a
// replica that printed a megabyte on one line costs nothing to keep.

/** At most this much of a line is kept (a stack trace's lines are short; a JSON dump is not). */
const LINE_CHARS = 500;

/** The last `lines` non-empty lines of `text`, each cut to LINE_CHARS. */
export function lastLines(text: string, lines: number): string[] {
  const all = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return all.slice(-lines).map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l));
}
