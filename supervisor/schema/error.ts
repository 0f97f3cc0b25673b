// A config problem: which key, what value it had, what was expected. Carried as plain data
// (code + fields) so it can cross a MessagePort and be printed the same everywhere.

export interface ConfigIssue {
  key: string;
  value: unknown;
  expected: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map(describeIssue).join('\n'));
    this.issues = issues;
  }
}

export function describeIssue(issue: ConfigIssue): string {
  return `config: ${issue.key} = ${showValue(issue.value)}; expected ${issue.expected}`;
}

function showValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
