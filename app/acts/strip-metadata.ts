// A photo uploaded through the site (row 17) is kept as its original, but without what a phone
// writes into it besides the picture: EXIF (GPS position, camera serial, time), XMP, IPTC and
// comments. Done losslessly, by dropping those segments or chunks rather than re-encoding, so
// the original keeps every pixel. The EXIF orientation is written back alone, so the original
// still shows upright. Row 15's imgB64 is kept byte for byte: the contract returns it as sent.
import { detectImageType } from './images.ts';

/**
 * JPEG markers whose segments are kept: APP0 (JFIF), APP2 only as ICC_PROFILE, APP14 (Adobe colour transform), and all
 * non-APP segments except comments.
 */
const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;
const SOS = 0xda;
const ICC = Buffer.from('ICC_PROFILE\0', 'latin1');

/** Without metadata, or the bytes unchanged when they are not a format handled here or do not parse. */
export function stripMetadata(bytes: Buffer, orientation: number | undefined): Buffer {
  try {
    switch (detectImageType(bytes)) {
      case 'image/jpeg':
        return stripJpeg(bytes, orientation ?? 1) ?? bytes;
      case 'image/png':
        return stripPng(bytes) ?? bytes;
      case 'image/webp':
        return stripWebp(bytes) ?? bytes;
      default:
        return bytes; // GIF has no place for a location
    }
  } catch {
    return bytes;
  }
}

function keepJpegSegment(marker: number, payload: Buffer): boolean {
  if (marker === COM) return false;
  if (marker < APP0 || marker > 0xef) return true;
  if (marker === APP0 || marker === APP14) return true;
  return marker === APP2 && payload.subarray(0, ICC.length).equals(ICC);
}

/** An APP1 Exif segment holding only IFD0's Orientation tag (big-endian TIFF). */
export function orientationExif(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('MM\0*', 0, 'latin1');
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // one value
  tiff.writeUInt16BE(orientation, 18); // left-justified in the 4-byte value field
  tiff.writeUInt32BE(0, 22); // no next IFD
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

function stripJpeg(bytes: Buffer, orientation: number): Buffer | undefined {
  const out: Buffer[] = [bytes.subarray(0, 2)];
  let at = 2;
  let wroteOrientation = orientation === 1;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === SOS) break; // the picture itself, to the end, as it is
    const length = bytes.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (!wroteOrientation && marker !== APP0) {
      out.push(orientationExif(orientation));
      wroteOrientation = true;
    }
    if (keepJpegSegment(marker, bytes.subarray(at + 4, end))) out.push(bytes.subarray(at, end));
    at = end;
  }
  if (at + 4 > bytes.length) return undefined;
  if (!wroteOrientation) out.push(orientationExif(orientation));
  out.push(bytes.subarray(at));
  return Buffer.concat(out);
}

const PNG_METADATA = new Set(['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME']);

function stripPng(bytes: Buffer): Buffer | undefined {
  const out: Buffer[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > bytes.length) return undefined;
    if (!PNG_METADATA.has(type)) out.push(bytes.subarray(at, end));
    at = end;
    if (type === 'IEND') return Buffer.concat(out);
  }
  return undefined;
}

const VP8X_XMP = 0x04;
const VP8X_EXIF = 0x08;

function stripWebp(bytes: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 12;
  while (at + 8 <= bytes.length) {
    const type = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    const end = at + 8 + size + (size % 2);
    if (at + 8 + size > bytes.length) return undefined;
    const chunk = Buffer.from(bytes.subarray(at, Math.min(end, bytes.length)));
    if (type === 'VP8X' && size >= 1) chunk[8] = chunk[8]! & ~(VP8X_XMP | VP8X_EXIF);
    if (type !== 'EXIF' && type !== 'XMP ') out.push(chunk);
    at = end;
  }
  const body = Buffer.concat(out);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length + 4, 4);
  head.write('WEBP', 8, 'latin1');
  return Buffer.concat([head, body]);
}
