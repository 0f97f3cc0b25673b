// Photo-like JPEGs for the image tests, made with sharp: a 4000×3000 gradient with grain, so
// that it weighs what a phone's photo weighs (several MB), optionally with an EXIF orientation
// and a GPS position, as a phone writes them.
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

export async function photoJpeg({ width, height, seed = 0, orientation, gps = false, quality = 85 }: PhotoOptions): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let state = (seed * 2654435761 + 1) >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const phase = seed * 0.7;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      const grain = (random() - 0.5) * GRAIN;
      raw[i] = 120 + 100 * Math.sin(x / 310 + phase) + grain;
      raw[i + 1] = 110 + 80 * Math.cos(y / 260 + phase) + grain;
      raw[i + 2] = 140 + 70 * Math.sin((x + y) / 420 - phase) + grain;
    }
  }
  let image = sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality });
  if (orientation !== undefined) image = image.withMetadata({ orientation });
  if (gps) image = image.withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4000/100' } });
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
