// What a name (a username, a category) and a caption may be. In `open` mode, what the contract
// allows stays allowed: any string, of any length, compared exactly (the course's clients
// create 10,000-character names, and names with "/" or ".." that they reach with the escapes
// every URL needs). In `owner` mode (a site people type into, behind the balancer):
//   - names are normalised wherever they come in: NFC, surrounding white space trimmed, so
//     "carol " from a phone keyboard is carol;
//   - a new name must be reachable by the routes that name it (/api/v1/users/{name},
//     /api/v1/categories/{name}) through the balancer, which refuses an encoded slash,
//     backslash or NUL in a path ("." and ".." are dot segments every URL parser removes): such
//     a name could be created and then never opened or deleted;
//   - and has no control or invisible format characters, and at most NAME_MAX characters;
//   - a caption is NFC, without control characters but line breaks and tabs, up to CAPTION_MAX.
import type { ApiAccess } from '../config.ts';
import { badRequest } from './errors.ts';
import { text } from './validate.ts';

export const NAME_MAX = 64;
export const CAPTION_MAX = 2000;
/** A photo's description for screen readers: a sentence or two, as WCAG's guidance has it. */
export const ALT_MAX = 300;

/** C0 and C1 controls, DEL, and the invisible format characters look-alike names hide behind. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/u;
const CAPTION_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u;

export type NameField = 'username' | 'category name' | 'categoryName';

/** A name as given to look something up: normalised in owner mode, as it is in open mode. */
export function givenName(value: string, mode: ApiAccess): string {
  return mode === 'owner' ? value.normalize('NFC').trim() : value;
}

/** A name in a body (a string, not empty), as given to look something up. */
export function nameField(value: unknown, field: NameField, mode: ApiAccess): string {
  const name = givenName(text(value, field), mode);
  if (name === '') throw badRequest(`${field} must not be empty`);
  return name;
}

/** A name something is created under: as given in open mode; routable, clean and bounded in owner mode. */
export function newName(value: unknown, field: NameField, mode: ApiAccess): string {
  const name = nameField(value, field, mode);
  if (mode !== 'owner') return name;
  if (name === '.' || name === '..')
    throw badRequest(`${field} cannot be "${name}": such a name could never be opened in an address`);
  if (/[/\\]/.test(name))
    throw badRequest(`${field} cannot contain "/" or "\\": such a name could never be opened in an address`);
  if (CONTROL.test(name)) throw badRequest(`${field} cannot contain control or invisible characters`);
  if ([...name].length > NAME_MAX) throw badRequest(`${field} can be at most ${NAME_MAX} characters long`);
  return name;
}

/** An act's caption (may be empty): as given in open mode; clean and bounded in owner mode. */
export function captionField(value: unknown, mode: ApiAccess): string {
  const caption = text(value, 'caption', { allowEmpty: true });
  if (mode !== 'owner') return caption;
  const clean = caption.normalize('NFC').trim();
  if (CAPTION_CONTROL.test(clean))
    throw badRequest('caption cannot contain control characters (line breaks and tabs are fine)');
  if ([...clean].length > CAPTION_MAX) throw badRequest(`caption can be at most ${CAPTION_MAX} characters long`);
  return clean;
}

/**
 * What a photo shows, for people who cannot see it (row 17's optional `alt`, in both modes: the
 * field is an extension): NFC, trimmed, one line without control or invisible characters, at
 * most ALT_MAX characters; '' when not given.
 */
export function altField(value: unknown): string {
  if (value === undefined) return '';
  const alt = text(value, 'alt', { allowEmpty: true }).normalize('NFC').trim();
  if (CONTROL.test(alt)) throw badRequest('alt cannot contain line breaks, control or invisible characters');
  if ([...alt].length > ALT_MAX) throw badRequest(`alt can be at most ${ALT_MAX} characters long`);
  return alt;
}

/** A comment's longest text, in characters. */
export const COMMENT_MAX = 1000;

/**
 * A comment's text (extension, both modes): NFC, trimmed, not empty, without control characters
 * but line breaks and tabs, at most COMMENT_MAX characters.
 */
export function commentText(value: unknown): string {
  const comment = text(value, 'text', { allowEmpty: true }).normalize('NFC').trim();
  if (comment === '') throw badRequest('text must not be empty');
  if (CAPTION_CONTROL.test(comment))
    throw badRequest('text cannot contain control characters (line breaks and tabs are fine)');
  if ([...comment].length > COMMENT_MAX) throw badRequest(`text can be at most ${COMMENT_MAX} characters long`);
  return comment;
}

/** A profile's bio: a line or two. */
export const BIO_MAX = 160;

/** A bio (extension): NFC, trimmed, may be empty, no control characters but line breaks, at most BIO_MAX characters. */
export function bioText(value: unknown): string {
  const bio = text(value, 'bio', { allowEmpty: true }).normalize('NFC').trim();
  if (CAPTION_CONTROL.test(bio)) throw badRequest('bio cannot contain control characters (line breaks are fine)');
  if ([...bio].length > BIO_MAX) throw badRequest(`bio can be at most ${BIO_MAX} characters long`);
  return bio;
}
