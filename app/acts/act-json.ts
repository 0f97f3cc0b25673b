// Listings (rows 10, 12, 19, 20) and images (row 18), written out act by act and image part by
// image part as the client reads them. A listing of 100 acts of 16 MiB each would otherwise be
// one 2 GB string (measured before: 500 "Invalid string length" after a 13 s stall at 2.3 GB);
// now a request holds one image part (1 MiB) and what the socket has not yet taken.
import type { Response } from 'express';
import type { Account } from '../http/access.ts';
import { exactNumber } from '../http/json.ts';
import { sendEmpty, sendError, sendJson } from '../http/respond.ts';
import { badRequest } from '../http/errors.ts';
import { NEWEST, type ActsFilter, type ActsStore, type ListedAct, type ListingOptions } from './acts-store.ts';
import { decideRange } from './range.ts';
import type { UpvotesStore } from './upvotes-store.ts';

/** The client went away, or an act lost its image parts while being written: stop writing. */
class StreamCut extends Error {}

/** Writes a chunk, waiting while the socket's buffer is full; StreamCut if the client left. */
async function write(res: Response, chunk: string | Buffer): Promise<void> {
  if (res.destroyed) throw new StreamCut('client gone');
  if (res.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new StreamCut('client gone'));
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/**
 * An image's parts in order, as base64 across part boundaries (each slice a multiple of three
 * bytes, the rest carried over). StreamCut when a part vanished under it (the act was removed
 * meanwhile); the bytes already sent cannot be taken back, so the response is cut off.
 */
async function* imageParts(acts: ActsStore, seq: number, parts: number): AsyncGenerator<Buffer> {
  for (let index = 0; index < parts; index++) {
    const part = await acts.imagePart(seq, index);
    if (part === undefined) throw new StreamCut(`image part ${index} of act ${seq} is gone`);
    yield part;
  }
}

async function* variantParts(acts: ActsStore, seq: number, name: string, parts: number): AsyncGenerator<Buffer> {
  for (let index = 0; index < parts; index++) {
    const part = await acts.variantPart(seq, name, index);
    if (part === undefined) throw new StreamCut(`variant ${name} part ${index} of act ${seq} is gone`);
    yield part;
  }
}

async function writeBase64(res: Response, chunks: AsyncIterable<Buffer>): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const whole = bytes.length - (bytes.length % 3);
    await write(res, bytes.subarray(0, whole).toString('base64'));
    carry = bytes.subarray(whole);
  }
  if (carry.length > 0) await write(res, carry.toString('base64'));
}

/** An act's keys in the spec's order, up to (not including) its image. */
function contractFields(act: ListedAct) {
  return {
    actId: exactNumber(act.actId),
    username: act.username,
    timestamp: act.timestamp,
    caption: act.caption,
    upvotes: act.upvotes,
    categoryName: act.categoryName,
  };
}

/** An act's keys in the spec's order, up to imgB64, as the start of a JSON object. */
function actHead(act: ListedAct): string {
  return `${JSON.stringify(contractFields(act)).slice(0, -1)},"imgB64":"`;
}

export interface ListingDeps {
  acts: ActsStore;
  upvotes: UpvotesStore;
}

/**
 * Answers a newest-first listing: the whole list when no range is given (204 when empty),
 * otherwise the slice from `start` to `end`. With a `viewer` (owner mode, logged in), each
 * act also says whether the viewer upvoted it (`upvotedByMe`, an extension field).
 */
export async function sendActs(
  res: Response,
  deps: ListingDeps,
  filter: ActsFilter,
  start: unknown,
  end: unknown,
  viewer?: Account,
): Promise<void> {
  const slice = await listingSlice(res, deps, filter, start, end, viewer);
  if (slice === undefined) return;
  const { list, voted } = slice;

  res.status(200).type('application/json; charset=utf-8');
  try {
    await write(res, '[');
    let first = true;
    for (const act of list) {
      const { parts } = await deps.acts.imageSize(act.seq);
      if (parts === 0) continue; // removed since the list was read: not in the answer
      await write(res, `${first ? '' : ','}${actHead(act)}`);
      first = false;
      await writeBase64(res, imageParts(deps.acts, act.seq, parts));
      await write(res, voted === undefined ? '"}' : `","upvotedByMe":${voted.has(act.seq)}}`);
    }
    await write(res, ']');
    res.end();
  } catch (err) {
    if (!(err instanceof StreamCut)) throw err;
    res.destroy();
  }
}

/**
 * Extension (`view=card` on rows 10, 12, 19, 20): the same acts and ranges, each without imgB64
 * but with `image` (its type, version, upright size and variant widths), which is all a page
 * needs to ask for the one thumbnail it shows. The contract's routes without the flag are as
 * specified.
 */
export function cardJson(act: ListedAct, upvotedByMe?: boolean): Record<string, unknown> {
  return {
    ...contractFields(act),
    image: act.image,
    ...(upvotedByMe === undefined ? {} : { upvotedByMe }),
  };
}

/** Longest search accepted, in characters. */
export const MAX_SEARCH_CHARS = 100;
/** Words of a search beyond these are not looked for. */
const MAX_SEARCH_WORDS = 8;

/**
 * A card listing's order (`order`: newest, the default, or popular) and search (`q`: words every
 * act listed has in its caption, author or category), or a 400 naming what is wrong.
 */
export function listingOptions(query: Record<string, unknown>): ListingOptions {
  const { order = 'newest', q = '' } = query;
  if (order !== 'newest' && order !== 'popular') throw badRequest('order must be "newest" or "popular"');
  if (typeof q !== 'string') throw badRequest('q must be given once, as text');
  if (q.length > MAX_SEARCH_CHARS) throw badRequest(`q must be at most ${MAX_SEARCH_CHARS} characters`);
  const words = q
    .normalize('NFC')
    .split(/\s+/u)
    .filter((w) => w !== '')
    .slice(0, MAX_SEARCH_WORDS);
  return { order, search: words };
}

export async function sendCards(
  res: Response,
  deps: ListingDeps,
  filter: ActsFilter,
  start: unknown,
  end: unknown,
  viewer?: Account,
  options: ListingOptions = NEWEST,
): Promise<void> {
  const slice = await listingSlice(res, deps, filter, start, end, viewer, options);
  if (slice !== undefined)
    sendJson(
      res,
      200,
      slice.list.map((act) => cardJson(act, slice.voted?.has(act.seq))),
    );
}

/**
 * The acts a listing covers: all of them when no range is given, else `start` to `end`; with a
 * `viewer`, which of them they upvoted. Undefined when the range was refused (400, 413) or the
 * whole list is empty (204): that answer is already sent.
 */
async function listingSlice(
  res: Response,
  deps: ListingDeps,
  filter: ActsFilter,
  start: unknown,
  end: unknown,
  viewer?: Account,
  options: ListingOptions = NEWEST,
) {
  const count = await deps.acts.count(filter, options);
  const decision = decideRange(start, end, count);
  if (decision.kind === 'error') return void sendError(res, decision.status, decision.reason);
  if (decision.kind === 'all' && count === 0) return void sendEmpty(res, 204);
  const [offset, limit] = decision.kind === 'all' ? [0, count] : [decision.offset, decision.limit];
  const list = await deps.acts.list(filter, offset, limit, options);
  const voted =
    viewer === undefined
      ? undefined
      : await deps.upvotes.votedBy(
          viewer.key,
          list.map((act) => act.seq),
        );
  return { list, voted };
}

/**
 * A listing as the contract has it, or as cards when the request asks for `view=card`, which
 * alone takes an order and a search (listingOptions): the contract's routes answer as specified.
 */
export function sendListing(
  res: Response,
  deps: ListingDeps,
  filter: ActsFilter,
  query: Record<string, unknown>,
  viewer?: Account,
): Promise<void> {
  if (query.view === 'card') return sendCards(res, deps, filter, query.start, query.end, viewer, listingOptions(query));
  return sendActs(res, deps, filter, query.start, query.end, viewer);
}

/**
 * Row 18's body (or, with `variant`, a sized copy's): the bytes part by part, with the length
 * known up front; false if gone.
 */
export async function sendImage(
  res: Response,
  acts: ActsStore,
  seq: number,
  type: string,
  variant?: string,
): Promise<boolean> {
  const { bytes, parts } = variant === undefined ? await acts.imageSize(seq) : await acts.variantSize(seq, variant);
  if (parts === 0) return false;
  res.status(200).type(type).setHeader('Content-Length', String(bytes));
  try {
    const source = variant === undefined ? imageParts(acts, seq, parts) : variantParts(acts, seq, variant, parts);
    for await (const part of source) await write(res, part);
    res.end();
  } catch (err) {
    if (!(err instanceof StreamCut)) throw err;
    res.destroy();
  }
  return true;
}
