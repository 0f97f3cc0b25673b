// An act as clients see it: exactly these keys, actId as a JSON number with every digit.
import type { Response } from 'express';
import { exactNumber, sendEmpty, sendError, sendJson } from '../http/json.ts';
import type { ActsFilter, ActsStore, StoredAct } from './acts-store.ts';
import { decideRange } from './range.ts';

export function actJson(act: StoredAct) {
  return {
    actId: exactNumber(act.actId),
    username: act.username,
    timestamp: act.timestamp,
    caption: act.caption,
    upvotes: act.upvotes,
    categoryName: act.categoryName,
    imgB64: act.image.toString('base64'),
  };
}

/**
 * Answers a newest-first listing (rows 10, 12, 19, 20): the whole list when no range is
 * given (204 when empty), otherwise the slice from `start` to `end`.
 */
export async function sendActs(res: Response, acts: ActsStore, filter: ActsFilter, start: unknown, end: unknown): Promise<void> {
  const count = await acts.count(filter);
  const decision = decideRange(start, end, count);
  if (decision.kind === 'error') return sendError(res, decision.status, decision.reason);
  if (decision.kind === 'all' && count === 0) return sendEmpty(res, 204);
  const [offset, limit] = decision.kind === 'all' ? [0, count] : [decision.offset, decision.limit];
  const list = await acts.list(filter, offset, limit);
  sendJson(res, 200, list.map(actJson));
}
