// Real PNG files for upload tests, drawn pixel by pixel: a soft gradient with a motif, so the
// screenshots in the README show something pleasant rather than noise.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

export type Rgb = readonly [number, number, number];

/** An 8-bit RGB PNG whose pixel (x, y) is paint(x, y). */
export function encodePng(width: number, height: number, paint: (x: number, y: number) => Rgb): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, no filter, no interlace
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let i = 0;
  for (let y = 0; y < height; y++) {
    raw[i++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y);
      raw[i++] = r;
      raw[i++] = g;
      raw[i++] = b;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [
  Math.round(a[0] + (b[0] - a[0]) * t),
  Math.round(a[1] + (b[1] - a[1]) * t),
  Math.round(a[2] + (b[2] - a[2]) * t),
];

export type Motif = 'heart' | 'sun' | 'house';

/** Whether the point (x, y), in units of the motif's size around its centre (y up), is inside it. */
const MOTIFS: Record<Motif, (x: number, y: number) => boolean> = {
  heart: (x, y) => {
    const a = x * x + (y + 0.15) * (y + 0.15) - 1;
    return a * a * a - x * x * (y + 0.15) ** 3 < 0;
  },
  sun: (x, y) => {
    const r = Math.hypot(x, y);
    const ray = Math.abs(Math.sin(Math.atan2(y, x) * 6)) > 0.82;
    return r < 0.62 || (ray && r > 0.8 && r < 1.2);
  },
  house: (x, y) => {
    const roof = y >= 0.15 && y <= 1.05 && Math.abs(x) <= 1.1 - (y - 0.15) * 1.2;
    const walls = y < 0.15 && y > -1 && Math.abs(x) < 0.8;
    const door = y < -0.35 && Math.abs(x) < 0.2;
    return roof || (walls && !door);
  },
};

/** A diagonal gradient from `from` to `to` with a white motif in the middle. */
export function heartPng(from: Rgb, to: Rgb, width = 320, height = 240, motif: Motif = 'heart'): Buffer {
  const size = Math.min(width, height) * 0.3;
  const inside = MOTIFS[motif];
  return encodePng(width, height, (x, y) => {
    const bg = mix(from, to, (x / width + y / height) / 2);
    return inside((x - width / 2) / size, -(y - height / 2) / size) ? mix(bg, [255, 255, 255], 0.9) : bg;
  });
}

export const PALETTES: ReadonlyArray<readonly [Rgb, Rgb]> = [
  [
    [255, 177, 153],
    [232, 87, 74],
  ],
  [
    [142, 221, 200],
    [35, 145, 127],
  ],
  [
    [255, 214, 140],
    [240, 140, 60],
  ],
  [
    [170, 196, 255],
    [90, 110, 220],
  ],
  [
    [226, 180, 240],
    [150, 90, 190],
  ],
];
