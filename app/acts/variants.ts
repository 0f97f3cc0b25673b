// Sized copies of an uploaded photo, made once at upload with sharp (libvips): turned upright by
// its EXIF orientation, metadata (GPS included) left behind, in WebP with a JPEG fallback, at a
// few widths for srcset. Listings then send thumbnails of a few dozen KB instead of the photo.
//
// Memory and CPU: a replica runs in 256 MB and half a CPU. libvips's operation cache is off (it
// would keep decoded images around), each image uses one libvips thread, and one image is
// processed at a time per process: a 4000×3000 JPEG is decoded once, shrunk while it is decoded
// (JPEG shrink-on-load) to the largest width, and every variant is made from that. sharp (and
// libvips with it, about 20 MB) is loaded at the first photo, not at start: a replica that never
// gets one (the users service, an idle acts replica) never maps it.
import type Sharp from 'sharp';
import { ByteBudget } from '../http/body-budget.ts';
import { detectImageType } from './images.ts';

let loaded: Promise<typeof Sharp> | undefined;

function sharpLibrary(): Promise<typeof Sharp> {
  loaded ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return loaded;
}

/** Widths offered in srcset; an image narrower than one gets its own width as the largest. */
export const VARIANT_WIDTHS = [320, 640, 1280, 1920] as const;
export type VariantFormat = 'webp' | 'jpeg';
export const VARIANT_FORMATS: readonly VariantFormat[] = ['webp', 'jpeg'];

/**
 * Larger images are not resized (they stay opaque originals): a decompression bomb (a small
 * PNG of 30000×30000 pixels) must not make libvips allocate gigabytes. 100 MP covers every
 * phone camera's default mode, and JPEG, the format of such photos, is shrunk while decoded.
 */
const MAX_INPUT_PIXELS = 100_000_000;
const WEBP = { quality: 74, effort: 3 } as const;
const JPEG = { quality: 78, progressive: true } as const;

export interface Variant {
  width: number;
  height: number;
  format: VariantFormat;
  bytes: Buffer;
}

/** An upright photo's size and its variants. */
export interface Rendition {
  width: number;
  height: number;
  /** The EXIF orientation the original carries (1 when none): kept when its metadata goes. */
  orientation: number;
  variants: Variant[];
}

/** One image at a time in this process (a budget of one slot). */
const oneAtATime = new ByteBudget(1);

/** The largest variant fits in a square of this side: a portrait photo is shown height-bound. */
const LARGEST_SIDE = VARIANT_WIDTHS[VARIANT_WIDTHS.length - 1]!;

/**
 * The widths made for an upright image: the standard ones below its largest, which is its own
 * size when it fits in LARGEST_SIDE × LARGEST_SIDE, else its size scaled down into that square.
 */
export function widthsFor(width: number, height: number): number[] {
  const largest = Math.max(1, Math.min(width, Math.round((LARGEST_SIDE * width) / Math.max(width, height))));
  return [...VARIANT_WIDTHS.filter((w) => w < largest), largest];
}

/** The file name of a variant in its route: `640.webp`, `640.jpg`. */
export function variantName(width: number, format: VariantFormat): string {
  return `${width}.${format === 'jpeg' ? 'jpg' : 'webp'}`;
}

export function parseVariantName(name: string): { width: number; format: VariantFormat } | undefined {
  const m = /^([1-9][0-9]{0,4})\.(webp|jpg)$/.exec(name);
  return m ? { width: Number(m[1]), format: m[2] === 'jpg' ? 'jpeg' : 'webp' } : undefined;
}

/**
 * The variants of an image, or undefined when it has none: not an image libvips reads, an
 * animation (its variants would stand still), or more pixels than MAX_INPUT_PIXELS. Such
 * bytes are still kept and served as they are; only listings fall back to the original.
 */
export async function makeVariants(image: Buffer): Promise<Rendition | undefined> {
  // Only the formats the site accepts: libvips reads many more (SVG, PDF, TIFF...), and row 15
  // takes any bytes; those are nobody's photos and stay opaque.
  if (detectImageType(image) === undefined) return undefined;
  const release = await oneAtATime.acquire(1);
  try {
    return await render(image);
  } catch {
    return undefined;
  } finally {
    release();
  }
}

async function render(image: Buffer): Promise<Rendition | undefined> {
  const sharp = await sharpLibrary();
  const input = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' } as const;
  const meta = await sharp(image, input).metadata();
  if ((meta.pages ?? 1) > 1 || meta.width === undefined || meta.height === undefined) return undefined;
  // EXIF orientations 5-8 turn the photo a quarter: the upright size is what the page shows.
  const { width, height } = meta.autoOrient ?? meta;
  const widths = widthsFor(width, height);
  const largest = widths[widths.length - 1]!;
  // Decoded once, upright, at the largest width; alpha kept for WebP, flattened for JPEG.
  const base = await sharp(image, input).autoOrient().resize({ width: largest }).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } };
  const variants: Variant[] = [];
  for (const w of widths) {
    for (const format of VARIANT_FORMATS) {
      let pipeline = sharp(base.data, raw);
      if (w !== base.info.width) pipeline = pipeline.resize({ width: w });
      pipeline = format === 'webp' ? pipeline.webp(WEBP) : pipeline.flatten({ background: '#ffffff' }).jpeg(JPEG);
      const out = await pipeline.toBuffer({ resolveWithObject: true });
      variants.push({ width: out.info.width, height: out.info.height, format, bytes: out.data });
    }
  }
  return { width, height, orientation: meta.orientation ?? 1, variants };
}
