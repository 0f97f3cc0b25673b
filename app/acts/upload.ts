// POST /api/v1/acts: the JSON upload of existing clients (row 15) and the web UI's multipart
// upload (row 17). Both end in `land`: category, actId and user checked, then one insert.
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { badRequest, HttpError } from '../http/errors.ts';
import { digitsToken, exactNumber, jsonBody, sendJson } from '../http/json.ts';
import { currentSession } from '../http/session.ts';
import { objectWithKeys, text } from '../http/validate.ts';
import type { ActsStore, NewAct } from './acts-store.ts';
import type { CategoriesStore } from './categories-store.ts';
import { detectImageType } from './images.ts';
import type { UsersClient } from './users-client.ts';
import { canonicalActId, decodeStrictBase64, formatTimestamp, timestampSortKey } from './values.ts';

export interface UploadDeps {
  acts: ActsStore;
  categories: CategoriesStore;
  users: UsersClient;
  bodyLimit: number;
}

const ACT_FIELDS = ['actId', 'username', 'timestamp', 'caption', 'categoryName', 'imgB64'] as const;
const FORM_FIELDS = ['caption', 'categoryName'] as const;
const NO_UPVOTES = 'upvotes must not be sent: every act starts with 0';

/** Row 15's body → the act to store, or a 400 naming the first problem. */
export function actFromJson(body: unknown): NewAct {
  const fields = objectWithKeys(body, ACT_FIELDS, { upvotes: NO_UPVOTES });
  const digits = digitsToken(fields.actId);
  const actId = digits === undefined ? undefined : canonicalActId(digits);
  if (actId === undefined) throw badRequest('actId must be an unsigned integer written as a JSON number');
  const username = text(fields.username, 'username');
  const timestamp = text(fields.timestamp, 'timestamp');
  const sortKey = timestampSortKey(timestamp);
  if (sortKey === undefined) throw badRequest('timestamp must be a real time in the format DD-MM-YYYY:SS-MM-HH');
  const caption = text(fields.caption, 'caption', { allowEmpty: true });
  const categoryName = text(fields.categoryName, 'categoryName');
  if (typeof fields.imgB64 !== 'string') throw badRequest('imgB64 must be a string');
  const image = decodeStrictBase64(fields.imgB64);
  if (image === undefined) throw badRequest('imgB64 must be non-empty strict base64 (RFC 4648)');
  return { actId, username, timestamp, sortKey, caption, categoryName, image };
}

/** An act before landing; without an actId, the store assigns the next free one. */
type Landing = Omit<NewAct, 'actId'> & { actId?: string };

/** Checks that need the database and the users service, then the insert; the actId stored. */
async function land(deps: UploadDeps, act: Landing): Promise<string> {
  if ((await deps.categories.idOf(act.categoryName)) === undefined) throw badRequest('no such category');
  if (act.actId !== undefined && (await deps.acts.exists(act.actId))) throw badRequest('actId is taken');
  const user = await deps.users.check(act.username);
  if (user === 'unknown') throw badRequest('no such user');
  if (user === 'unavailable') throw new HttpError(503, 'users service unavailable, nothing was stored; try again shortly');
  if (act.actId === undefined) {
    const { result, actId } = await deps.acts.insertWithNextId(act);
    if (result === 'no-category') throw badRequest('no such category');
    return actId;
  }
  const result = await deps.acts.insert({ ...act, actId: act.actId });
  if (result === 'no-category') throw badRequest('no such category');
  if (result === 'act-id-taken') throw badRequest('actId is taken');
  return act.actId;
}

function multipartParser(bodyLimit: number): RequestHandler {
  return multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: bodyLimit, fieldSize: bodyLimit, files: 1, fields: 8, parts: 9 },
  }).single('image');
}

function parseMultipart(parser: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    parser(req, res, (err?: unknown) => {
      if (!err) return resolve();
      const e = err as { code?: string; message?: string };
      if (e.code === 'LIMIT_FILE_SIZE') return reject(badRequest('image is too large'));
      reject(badRequest(`malformed multipart upload: ${e.message ?? 'unreadable'}`));
    });
  });
}

/** Row 17's form → the act to store (actId and timestamp come from the server). */
function actFromForm(req: Request, username: string, now: Date): Landing {
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (key === 'upvotes') throw badRequest(NO_UPVOTES);
    if (!(FORM_FIELDS as readonly string[]).includes(key)) throw badRequest(`unexpected field: ${key}`);
  }
  for (const key of FORM_FIELDS) if (!Object.hasOwn(body, key)) throw badRequest(`missing field: ${key}`);
  const file = req.file;
  if (file === undefined) throw badRequest('missing file: image');
  if (detectImageType(file.buffer) === undefined) throw badRequest('image must be a PNG, JPEG, GIF or WebP image');
  const timestamp = formatTimestamp(now);
  return {
    username,
    timestamp,
    sortKey: timestampSortKey(timestamp) as string,
    caption: text(body.caption, 'caption', { allowEmpty: true }),
    categoryName: text(body.categoryName, 'categoryName'),
    image: file.buffer,
  };
}

export function uploadHandler(deps: UploadDeps): RequestHandler[] {
  const multipart = multipartParser(deps.bodyLimit);
  return [
    // Row 17; anything that is not multipart falls through to row 15.
    async (req, res, next) => {
      if (!req.is('multipart/form-data')) return next();
      const session = currentSession(req);
      if (session === undefined) throw new HttpError(401, 'log in to upload');
      if (Number(req.headers['content-length'] ?? 0) > deps.bodyLimit) {
        throw new HttpError(413, `request body is larger than the limit of ${deps.bodyLimit} bytes`);
      }
      await parseMultipart(multipart, req, res);
      const actId = await land(deps, actFromForm(req, session.username, new Date()));
      sendJson(res, 201, { actId: exactNumber(actId) });
    },
    // Row 15
    ...jsonBody(deps.bodyLimit),
    async (req, res) => {
      await land(deps, actFromJson(req.body));
      sendJson(res, 201, {});
    },
  ];
}
