// Sized copies of an uploaded photo, made once at upload with sharp (libvips): turned upright by
// its EXIF orientation, metadata (GPS included) left behind, in WebP with a JPEG fallback, at a
// few widths for srcset. Listings then send thumbnails of a few dozen KB instead of the photo.
//
// Memory and CPU: a replica runs in 256 MB and half a CPU. libvips's operation cache is off (it
// would keep decoded images around), each image uses one libvips thread, and one image is
// processed at a time per process, users served in turn (image-queue.ts): a 4000×3000 JPEG is
// decoded once, shrunk while it is decoded (JPEG shrink-on-load) to the largest width, and every
// variant is made from that. What an image may cost is bounded before and while it is decoded:
// its pixel count by format (a baseline JPEG is shrunk while decoded; a PNG, a WebP or a
// progressive JPEG is decoded whole), and its time (each libvips pipeline gets what is left of
// IMAGE_TIME_BUDGET_MS, and stops there). sharp (and libvips with it, about 20 MB) is loaded at
// the first photo, not at start: a replica that never gets one (the users service, an idle acts
// replica) never maps it.
import type Sharp from 'sharp';
import { FairImageQueue, type ImageQueueOptions } from './image-queue.ts';
import { detectImageType } from './images.ts';

let loaded: Promise<typeof Sharp> | undefined;

/** sharp, loaded at its first use, its cache off and one libvips thread per image (shared by the avatars). */
export function sharpLibrary(): Promise<typeof Sharp> {
  loaded ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false);
    sharp.concurrency(1);
    return sharp;
  });
  return loaded;
}

/**
 * Widths offered in srcset; an image narrower than one gets its own width as the largest. 480
 * is for a feed card's 175-360 CSS px slot at 1x and 2x: without it, such a slot fetched the
 * 640 copy, about 1.8 times the pixels it shows (Lighthouse: ~290 KiB too many on 24 photos).
 */
export const VARIANT_WIDTHS = [320, 480, 640, 1280, 1920] as const;
export type VariantFormat = 'webp' | 'jpeg';
export const VARIANT_FORMATS: readonly VariantFormat[] = ['webp', 'jpeg'];

/**
 * Larger images get no variants (row 15 keeps them as opaque originals; the site's upload, row
 * 17, refuses them): a decompression bomb (a small PNG of 30000×30000 pixels) must not make
 * libvips allocate gigabytes or take a minute of the replica's half CPU. 100 MP covers every
 * phone camera's default mode, in baseline JPEG, shrunk 8× while decoded; what is decoded whole
 * (PNG, WebP, GIF, progressive JPEG: a screenshot, an edited photo) stops at 25 MP, which
 * decodes in about a second.
 */
export const MAX_PIXELS_SHRUNK_ON_LOAD = 100_000_000;
export const MAX_PIXELS_DECODED_WHOLE = 25_000_000;
/** Everything one image may take, all its variants included. */
export const IMAGE_TIME_BUDGET_MS = 15_000;

const WEBP = { quality: 74, effort: 3 } as const;
const JPEG = { quality: 78, progressive: true } as const;

export interface Variant {
  width: number;
  height: number;
  format: VariantFormat;
  bytes: Buffer;
}

/** Why an image has no variants. */
export type NoRendition = 'not-an-image' | 'animated' | 'too-many-pixels' | 'too-slow' | 'unreadable';

/** An upright photo's size and its variants. */
export interface Rendition {
  width: number;
  height: number;
  /** The EXIF orientation the original carries (1 when none): kept when its metadata goes. */
  orientation: number;
  variants: Variant[];
}

/**
 * One image at a time in this process, users in turn; replaced at start by configureImageQueue
 * (config.ts has the bounds: IMAGE_QUEUE, IMAGE_QUEUE_PER_USER). A user picking a dozen photos
 * at once fits; a flood does not.
 */
let worker = new FairImageQueue({ maxWaiting: 48, maxWaitingPerUser: 24 });

export function configureImageQueue(options: ImageQueueOptions): void {
  worker = new FairImageQueue(options);
}

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
 * The variants of an image, or why it has none: not an image the site takes, an animation (its
 * variants would stand still), too many pixels for its format, not done within the time budget,
 * or not readable after all. Such bytes may still be kept and served as they are (row 15);
 * listings then fall back to the original. `user` is whose turn it takes (image-queue.ts);
 * throws QueueFull when too many images wait already.
 */
export async function makeVariants(image: Buffer, user: string): Promise<Rendition | NoRendition> {
  // Only the formats the site accepts: libvips reads many more (SVG, PDF, TIFF...), and row 15
  // takes any bytes; those are nobody's photos and stay opaque.
  if (detectImageType(image) === undefined) return 'not-an-image';
  // The header first, outside the line: an image refused for its size or its frames never
  // takes a place in it (four decompression bombs at once are four quick 400s, not a 503).
  let meta: Header | NoRendition;
  try {
    meta = await header(image);
  } catch {
    return 'unreadable';
  }
  if (typeof meta === 'string') return meta;
  const checked = meta;
  return worker.run(user, async () => {
    try {
      return await render(image, checked, Date.now() + IMAGE_TIME_BUDGET_MS);
    } catch (err) {
      return /timeout/i.test((err as Error).message) ? 'too-slow' : 'unreadable';
    }
  });
}

/** Whether libvips may decode this many pixels of this image (its header says how many). */
export function pixelsAllowed(meta: {
  width: number;
  height: number;
  format?: string;
  isProgressive?: boolean;
}): boolean {
  const pixels = meta.width * meta.height;
  const shrunkOnLoad = meta.format === 'jpeg' && meta.isProgressive !== true;
  return pixels <= (shrunkOnLoad ? MAX_PIXELS_SHRUNK_ON_LOAD : MAX_PIXELS_DECODED_WHOLE);
}

/** What an image's header says, once it is known to be one the site can make copies of. */
interface Header {
  /** Upright (EXIF orientations 5-8 turn it a quarter). */
  width: number;
  height: number;
  orientation: number;
}

const INPUT = { limitInputPixels: MAX_PIXELS_SHRUNK_ON_LOAD, failOn: 'error' } as const;

/** The header alone: nothing is decoded yet. */
async function header(image: Buffer): Promise<Header | NoRendition> {
  const sharp = await sharpLibrary();
  const meta = await sharp(image, { ...INPUT, limitInputPixels: false }).metadata();
  if (meta.width === undefined || meta.height === undefined) return 'unreadable';
  if ((meta.pages ?? 1) > 1) return 'animated';
  if (
    !pixelsAllowed({ width: meta.width, height: meta.height, format: meta.format, isProgressive: meta.isProgressive })
  )
    return 'too-many-pixels';
  const { width, height } = meta.autoOrient ?? meta;
  return { width, height, orientation: meta.orientation ?? 1 };
}

async function render(image: Buffer, { width, height, orientation }: Header, deadline: number): Promise<Rendition> {
  const sharp = await sharpLibrary();
  const input = INPUT;
  /** What is left of the budget, for libvips's own timeout (whole seconds, at least one). */
  const timeout = () => {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error('timeout: the image took longer than its time budget');
    return { seconds: Math.max(1, Math.floor(left / 1000)) };
  };
  const widths = widthsFor(width, height);
  const largest = widths[widths.length - 1]!;
  // Decoded once, upright, at the largest width; alpha kept for WebP, flattened for JPEG.
  const base = await sharp(image, input)
    .timeout(timeout())
    .autoOrient()
    .resize({ width: largest })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } };
  const variants: Variant[] = [];
  for (const w of widths) {
    for (const format of VARIANT_FORMATS) {
      let pipeline = sharp(base.data, raw).timeout(timeout());
      if (w !== base.info.width) pipeline = pipeline.resize({ width: w });
      pipeline = format === 'webp' ? pipeline.webp(WEBP) : pipeline.flatten({ background: '#ffffff' }).jpeg(JPEG);
      const out = await pipeline.toBuffer({ resolveWithObject: true });
      variants.push({ width: out.info.width, height: out.info.height, format, bytes: out.data });
    }
  }
  return { width, height, orientation, variants };
}
