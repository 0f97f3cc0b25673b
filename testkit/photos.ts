// Photo-like JPEGs for the image tests, made with sharp: a painted landscape with sensor-like
// grain, so that a 4000×3000 one weighs what a phone's photo weighs (several MB), optionally
// with an EXIF orientation and a GPS position, as a phone writes them.
import sharp from 'sharp';

export interface PhotoOptions {
  width: number;
  height: number;
  /** Changes the colours, so that photos differ. */
  seed?: number;
  /** EXIF orientation (6: the camera was held upright, the pixels are stored sideways). */
  orientation?: number;
  /** Writes a GPS position into the EXIF, as phones do. */
  gps?: boolean;
  quality?: number;
}

/** Grain amplitude: enough for a 4000×3000 JPEG at quality 85 to weigh 4-5 MB. */
const GRAIN = 50;

export async function photoJpeg({
  width,
  height,
  seed = 0,
  orientation,
  gps = false,
  quality = 85,
}: PhotoOptions): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  const px = new Uint8ClampedArray(raw.buffer, raw.byteOffset, raw.length); // rounds and clamps to 0-255
  let state = (seed * 2654435761 + 1) >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  // A landscape as a child would paint it: sky, a sun, two rows of hills; the seed moves them.
  const hue = [
    [92, 146, 214],
    [244, 150, 110],
    [120, 110, 200],
    [70, 170, 190],
  ][seed % 4]!;
  const sun = { x: width * (0.25 + 0.5 * ((seed * 0.37) % 1)), y: height * 0.3, r: Math.min(width, height) * 0.09 };
  for (let y = 0, i = 0; y < height; y++) {
    const t = y / height;
    for (let x = 0; x < width; x++, i += 3) {
      const grain = (random() - 0.5) * GRAIN;
      const far = height * (0.58 + 0.06 * Math.sin(x / (width / 5) + seed));
      const near = height * (0.72 + 0.05 * Math.sin(x / (width / 3) + seed * 2.1));
      let rgb: [number, number, number];
      if (y > near) rgb = [70 - 30 * t, 140 - 40 * t, 60];
      else if (y > far) rgb = [110, 170, 95];
      else if (Math.hypot(x - sun.x, y - sun.y) < sun.r) rgb = [255, 226, 140];
      else rgb = [hue[0] + 110 * t, hue[1] + 80 * t, hue[2] + 30 * t];
      px[i] = rgb[0] + grain;
      px[i + 1] = rgb[1] + grain;
      px[i + 2] = rgb[2] + grain;
    }
  }
  let image = sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality });
  if (orientation !== undefined) image = image.withMetadata({ orientation });
  if (gps)
    image = image.withExif({
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 17/1 4000/100',
      },
    });
  return image.toBuffer();
}

/** The tags of IFD0 of an EXIF block (as sharp's metadata().exif gives it: "Exif\0\0" + TIFF). */
export function exifIfd0Tags(exif: Buffer | undefined): number[] {
  if (exif === undefined) return [];
  const tiff = exif.subarray(exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0);
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  return Array.from({ length: u16(ifd) }, (_, i) => u16(ifd + 2 + i * 12));
}

/** IFD0's pointer to the GPS block. */
export const GPS_IFD_TAG = 0x8825;
export const ORIENTATION_TAG = 0x0112;

/**
 * Every segment of a JPEG's header, up to the picture itself (SOS): marker and payload. Written
 * apart from app/acts/strip-metadata.ts, so a test that reads a photo's metadata with it sees
 * every EXIF or XMP segment, not only the first one a decoder reports.
 */
export function jpegSegments(jpeg: Buffer): Array<{ marker: number; payload: Buffer }> {
  const segments: Array<{ marker: number; payload: Buffer }> = [];
  for (let at = 2; at + 4 <= jpeg.length; ) {
    if (jpeg[at] !== 0xff) throw new Error(`not a JPEG segment at byte ${at}`);
    const marker = jpeg[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xda) break;
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    segments.push({ marker, payload: jpeg.subarray(at + 4, end) });
    at = end;
  }
  return segments;
}

/** APP1, where EXIF ("Exif\0\0") and XMP live. */
export const APP1 = 0xe1;
