// An avatar from an uploaded photo: turned upright by its EXIF orientation, cut to a square
// around its centre, 256 px, in WebP and in JPEG, without metadata (GPS included): the
// original is not kept. Bounded as the acts service's photos are (acts/variants.ts): only the
// formats the site takes, a pixel limit read from the header before anything is decoded, and a
// time limit. sharp (libvips) is loaded at the first avatar, not at start.
import { createHash } from 'node:crypto';
import type { Metadata } from 'sharp';
import { detectImageType } from '../acts/images.ts';
import { pixelsAllowed, sharpLibrary } from '../acts/variants.ts';
import { badRequest } from '../http/errors.ts';

export const AVATAR_SIZE = 256;
/** libvips's own timeout for the whole job, seconds. */
const TIMEOUT_SECONDS = 10;

export interface Avatar {
  version: string;
  webp: Buffer;
  jpeg: Buffer;
}

/** The avatar's copies, or a 400 naming why the bytes cannot be one. */
export async function makeAvatar(bytes: Buffer): Promise<Avatar> {
  if (detectImageType(bytes) === undefined) throw badRequest('an avatar must be a PNG, JPEG, GIF or WebP image');
  const sharp = await sharpLibrary();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw badRequest('the avatar image cannot be read');
  }
  if (meta.width === undefined || meta.height === undefined) throw badRequest('the avatar image cannot be read');
  if (
    !pixelsAllowed({ width: meta.width, height: meta.height, format: meta.format, isProgressive: meta.isProgressive })
  )
    throw badRequest('the avatar image has too many pixels');
  try {
    const square = sharp(bytes, { failOn: 'error', pages: 1 })
      .timeout({ seconds: TIMEOUT_SECONDS })
      .autoOrient()
      .resize({ width: AVATAR_SIZE, height: AVATAR_SIZE, fit: 'cover', position: 'centre' });
    const webp = await square.clone().webp({ quality: 80 }).toBuffer();
    const jpeg = await square.clone().flatten({ background: '#ffffff' }).jpeg({ quality: 82 }).toBuffer();
    const version = createHash('sha256').update(webp).digest('hex').slice(0, 16);
    return { version, webp, jpeg };
  } catch {
    throw badRequest('the avatar image cannot be read');
  }
}
