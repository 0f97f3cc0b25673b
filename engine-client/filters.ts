// The engine's `filters` query parameter: a JSON map of filter name to a list of values.
import type { LabelFilter } from './types.ts';

export type FilterMap = Record<string, string[] | undefined>;

export function labelFilterValues(labels: LabelFilter | undefined): string[] | undefined {
  if (!labels) return undefined;
  return Object.entries(labels).map(([key, value]) => (value === true ? key : `${key}=${value}`));
}

/** The JSON for `?filters=`, or undefined when no filter is set (the engine then lists all). */
export function encodeFilters(filters: FilterMap): string | undefined {
  const set: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(filters)) {
    if (values && values.length > 0) set[name] = values;
  }
  return Object.keys(set).length === 0 ? undefined : JSON.stringify(set);
}
