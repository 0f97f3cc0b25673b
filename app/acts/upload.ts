// POST /api/v1/acts: the JSON upload of existing clients (row 15) and the web UI's multipart
// upload (row 17). Both end in `land`: category, actId and user checked, then one insert.
import type { Request, RequestHandler } from 'express';
import { reserveBodyMemory } from '../http/body-budget.ts';
import { accountKey } from '../db/keys.ts';
import { sessionAccount, sessionAccountIfAny, setSessionAccount, type Access } from '../http/access.ts';
import { sameOriginOnly } from '../http/csrf.ts';
import { badRequest, HttpError } from '../http/errors.ts';
import { digitsToken, exactNumber, jsonBody } from '../http/json.ts';
import { sendJson } from '../http/respond.ts';
import { onlyWhen } from '../http/routes.ts';
import { signedSession } from '../http/session.ts';
import { altField, captionField, nameField } from '../http/names.ts';
import { objectWithKeys, text } from '../http/validate.ts';
import type { ApiAccess } from '../config.ts';
import type { ActsStore, NewAct } from './acts-store.ts';
import type { CategoriesStore } from './categories-store.ts';
import { detectImageType } from './images.ts';
import { readMultipart, type MultipartForm } from './multipart.ts';
import { stripMetadata } from './strip-metadata.ts';
import type { UsersClient } from './users-client.ts';
import { QueueFull } from './image-queue.ts';
import {
  makeVariants,
  MAX_PIXELS_DECODED_WHOLE,
  MAX_PIXELS_SHRUNK_ON_LOAD,
  type NoRendition,
  type Rendition,
} from './variants.ts';
import { canonicalActId, decodeStrictBase64, formatTimestamp, timestampSortKey } from './values.ts';

export interface UploadDeps {
  acts: ActsStore;
  categories: CategoriesStore;
  users: UsersClient;
  bodyLimit: number;
  access: Access;
}

const ACT_FIELDS = ['actId', 'username', 'timestamp', 'caption', 'categoryName', 'imgB64'] as const;
const FORM_FIELDS = ['caption', 'categoryName'] as const;
/** Row 17's fields beyond the contract's (docs/api-notes.md). */
const OPTIONAL_FORM_FIELDS = ['alt'] as const;
const NO_UPVOTES = 'upvotes must not be sent: every act starts with 0';

/** Row 15's body → the act to store, or a 400 naming the first problem. */
export function actFromJson(body: unknown, mode: ApiAccess): UnownedAct {
  const fields = objectWithKeys(body, ACT_FIELDS, { upvotes: NO_UPVOTES });
  const digits = digitsToken(fields.actId);
  const actId = digits === undefined ? undefined : canonicalActId(digits);
  if (actId === undefined) throw badRequest('actId must be an unsigned integer written as a JSON number');
  const username = nameField(fields.username, 'username', mode);
  const timestamp = text(fields.timestamp, 'timestamp');
  const sortKey = timestampSortKey(timestamp);
  if (sortKey === undefined) throw badRequest('timestamp must be a real time in the format DD-MM-YYYY:SS-MM-HH');
  const caption = captionField(fields.caption, mode);
  const categoryName = nameField(fields.categoryName, 'categoryName', mode);
  if (typeof fields.imgB64 !== 'string') throw badRequest('imgB64 must be a string');
  const image = decodeStrictBase64(fields.imgB64);
  if (image === undefined) throw badRequest('imgB64 must be non-empty strict base64 (RFC 4648)');
  return { actId, username, timestamp, sortKey, caption, categoryName, image };
}

/** Row 15's act before the users service named its account. */
type UnownedAct = Omit<NewAct, 'ownerKey'>;

/**
 * An act before landing; without an actId, the store assigns the next free one. A photo sent
 * through the site (row 17) loses its metadata; row 15's bytes are kept as sent (the contract
 * returns them in imgB64).
 */
type Landing = Omit<UnownedAct, 'actId'> & { actId?: string; stripMetadata: boolean };

/**
 * The sized copies, in the owner's turn at the image worker. A photo sent through the site
 * (`strict`: row 17) is refused when it cannot have them for its size or its time (the page
 * would otherwise show the whole original in every listing); row 15 keeps any bytes as they
 * are, as the contract has it. Either way a full queue is a 503 with Retry-After.
 */
async function variantsFor(image: Buffer, owner: string, strict: boolean): Promise<Rendition | undefined> {
  let made: Rendition | NoRendition;
  try {
    made = await makeVariants(image, owner);
  } catch (err) {
    if (err instanceof QueueFull)
      throw new HttpError(503, `${err.message}: nothing was stored; try again in a few seconds`, 5);
    throw err;
  }
  if (typeof made !== 'string') return made;
  if (strict && made === 'too-many-pixels') {
    throw badRequest(
      `the photo has too many pixels: at most ${MAX_PIXELS_SHRUNK_ON_LOAD / 1e6} megapixels for a JPEG, ${MAX_PIXELS_DECODED_WHOLE / 1e6} for other formats`,
    );
  }
  if (strict && made === 'too-slow')
    throw new HttpError(
      503,
      'the photo could not be processed in time (the site is busy): nothing was stored; try again shortly',
      10,
    );
  return undefined;
}

/** Checks that need the database and the users service, then the insert; the actId stored. */
async function land(deps: UploadDeps, act: Landing): Promise<string> {
  if ((await deps.categories.idOf(act.categoryName)) === undefined) throw badRequest('no such category');
  if (act.actId !== undefined && (await deps.acts.exists(act.actId))) throw badRequest('actId is taken');
  const user = await deps.users.check(act.username);
  if (user === 'unknown') throw badRequest('no such user');
  if (user === 'unavailable')
    throw new HttpError(503, 'users service unavailable, nothing was stored; try again shortly');
  // The account holding the name now owns the act (in owner mode, the session's: the name is the
  // session's, checked before).
  const ownerKey = accountKey(act.username, user.generation);
  // The sized copies are made only once the cheap checks passed, and before the transaction:
  // the act, its original and its variants then land together or not at all.
  const { stripMetadata: strip, ...fields } = act;
  const rendition = await variantsFor(fields.image, ownerKey, strip);
  const ready = {
    ...fields,
    ownerKey,
    rendition,
    image: strip ? stripMetadata(fields.image, rendition?.orientation) : fields.image,
  };
  if (ready.actId === undefined) {
    const { result, actId } = await deps.acts.insertWithNextId(ready);
    if (result === 'no-category') throw badRequest('no such category');
    return actId;
  }
  const result = await deps.acts.insert({ ...ready, actId: ready.actId });
  if (result === 'no-category') throw badRequest('no such category');
  if (result === 'act-id-taken') throw badRequest('actId is taken');
  return ready.actId;
}

/** Row 17's form → the act to store (actId and timestamp come from the server). */
function actFromForm(form: MultipartForm, username: string, now: Date, mode: ApiAccess): Landing {
  for (const key of form.fields.keys()) {
    if (key === 'upvotes') throw badRequest(NO_UPVOTES);
    if (![...FORM_FIELDS, ...OPTIONAL_FORM_FIELDS].includes(key as never)) throw badRequest(`unexpected field: ${key}`);
  }
  for (const key of FORM_FIELDS) if (!form.fields.has(key)) throw badRequest(`missing field: ${key}`);
  if (form.file === undefined) throw badRequest('missing file: image');
  if (detectImageType(form.file.bytes) === undefined) throw badRequest('image must be a PNG, JPEG, GIF or WebP image');
  const timestamp = formatTimestamp(now);
  return {
    username,
    timestamp,
    sortKey: timestampSortKey(timestamp) as string,
    caption: captionField(form.fields.get('caption'), mode),
    categoryName: nameField(form.fields.get('categoryName'), 'categoryName', mode),
    image: form.file.bytes,
    altText: altField(form.fields.get('alt')),
    stripMetadata: true,
  };
}

/**
 * Row 17's session guard in open mode. A cookie that is not live gets a 401, except the
 * cookie of a user who no longer exists: the contract answers that as row 15 answers an
 * unknown user (400). A logged-out user's cookie, or one that names a user re-registered
 * since, still gets the 401.
 */
function openModeUploader(deps: UploadDeps): RequestHandler {
  return async (req, res, next) => {
    const account = await deps.access.lookup(req);
    if (account === undefined) {
      const signed = signedSession(req);
      if (signed !== undefined && (await deps.users.check(signed.username)) === 'unknown')
        throw badRequest('no such user');
      throw new HttpError(401, 'log in to upload');
    }
    setSessionAccount(res, account);
    next();
  };
}

export function uploadHandler(deps: UploadDeps): RequestHandler[] {
  const owner = deps.access.mode === 'owner';
  const isMultipart = (req: Request) => typeof req.is('multipart/form-data') === 'string';
  return [
    // Both kinds need the session in owner mode; in open mode only row 17 does.
    ...(owner ? deps.access.write : [onlyWhen(isMultipart, [sameOriginOnly, openModeUploader(deps)])]),
    // Row 17; anything that is not multipart falls through to row 15.
    async (req, res, next) => {
      if (!isMultipart(req)) return next();
      if (Number(req.headers['content-length'] ?? 0) > deps.bodyLimit) {
        throw new HttpError(413, `request body is larger than the limit of ${deps.bodyLimit} bytes`);
      }
      const reservation = await reserveBodyMemory(req, deps.bodyLimit);
      const form = await readMultipart(req, {
        bodyLimit: deps.bodyLimit,
        fileField: 'image',
        maxFields: FORM_FIELDS.length + 6,
        reservation,
      });
      const actId = await land(deps, actFromForm(form, sessionAccount(res).username, new Date(), deps.access.mode));
      sendJson(res, 201, { actId: exactNumber(actId) });
    },
    // Row 15; in owner mode, as the logged-in user only.
    ...jsonBody(deps.bodyLimit, { jsonTypeOnly: owner }),
    async (req, res) => {
      const act = actFromJson(req.body, deps.access.mode);
      const self = sessionAccountIfAny(res);
      if (self !== undefined && act.username !== self.username)
        throw new HttpError(403, 'username must be yours: acts are uploaded as the logged-in user');
      await land(deps, { ...act, stripMetadata: false });
      sendJson(res, 201, {});
    },
  ];
}
