// Shareable addresses (the shipped config: /a/37, /c/kindness, /u/carol): the web UI's page
// with the Open Graph and Twitter card tags of what the address names, in the HTML itself, so a
// link pasted into a chat or a post shows a preview (link unfurlers read tags and run no
// script); the page then boots as usual. The balancer knows no app: `balancer.previews` names
// the paths and the API path that describes them (`source` + the address, routed like any
// request), which answers a `PagePreview` as JSON. Pure: the balancer fetches and serves.

import type { PagePreview, PreviewImage } from '../../contracts/page-preview.ts';

export type { PagePreview, PreviewImage };

/** The API's answer, or nothing when it gave none in time (busy, down, over a bound). */
export type PreviewAnswer = { status: number; body: unknown } | undefined;

export interface PreviewPage {
  /** 404 when the service says there is no such thing: the page still boots and says so. */
  status: 200 | 404;
  /** Undefined: the page goes out as it is (no answer to draw from). */
  preview: PagePreview | undefined;
}

const MAX_TITLE = 200;
const MAX_DESCRIPTION = 300;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const flat = value.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** A same-site path: "/..." but not "//host" or "/\\host", which browsers read as another site. */
function sitePath(value: unknown): value is string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value);
}

function previewImage(value: unknown): PreviewImage | undefined {
  if (!isRecord(value)) return undefined;
  const { url, type, width, height, alt } = value;
  if (!sitePath(url) || typeof type !== 'string' || !/^image\/[a-z0-9.+-]+$/.test(type)) return undefined;
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0)
    return undefined;
  return { url, type, width: width as number, height: height as number, alt: text(alt, MAX_DESCRIPTION) ?? '' };
}

/** The preview in an answer's body, when it is one (a service's bug must not reach the HTML). */
export function parsePreview(body: unknown): PagePreview | undefined {
  if (!isRecord(body)) return undefined;
  const title = text(body.title, MAX_TITLE);
  const description = text(body.description, MAX_DESCRIPTION);
  const { type, card } = body;
  if (title === undefined || title === '' || description === undefined) return undefined;
  if (type !== 'article' && type !== 'profile' && type !== 'website') return undefined;
  if (card !== 'summary' && card !== 'summary_large_image') return undefined;
  const image = body.image === undefined || body.image === null ? undefined : previewImage(body.image);
  if (body.image !== undefined && body.image !== null && image === undefined) return undefined;
  return { title, description, type, card, ...(image ? { image } : {}) };
}

/**
 * The page to send, from the service's answer: its preview; a 404 (and 400: the address names
 * nothing that could exist) keeps the page but says so; anything else, including no answer at
 * all, sends the page as it is: a preview is never worth an error page.
 */
export function previewPage(answer: PreviewAnswer): PreviewPage {
  if (answer === undefined) return { status: 200, preview: undefined };
  if (answer.status === 404 || answer.status === 400) return { status: 404, preview: undefined };
  return { status: 200, preview: answer.status === 200 ? parsePreview(answer.body) : undefined };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const PLAIN_HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:.]+\\])(?::[0-9]{1,5})?$`, 'i');

/**
 * The origin absolute URLs are made with (`og:image` must be absolute), from the request's
 * scheme and Host; undefined when the Host is not a plain host name, IPv4 or bracketed IPv6
 * address with an optional port, so nothing a client sends can break out of an attribute.
 */
export function pageOrigin(proto: 'http' | 'https', host: string | undefined): string | undefined {
  if (host === undefined || !PLAIN_HOST.test(host)) return undefined;
  return `${proto}://${host.toLowerCase()}`;
}

/** The shell's own title: the site's name, for `og:site_name`. */
function siteName(shell: string): string {
  return /<title>([^<]*)<\/title>/.exec(shell)?.[1]?.trim() || 'this site';
}

/**
 * The page: `shell` (the UI's index.html) for the address `path`, with the preview's title and
 * description in place of the shell's and the Open Graph and Twitter tags added to its head.
 * Without a preview the shell goes out as it is, but a missing thing still gets its title.
 */
export function renderPreviewPage(shell: string, path: string, page: PreviewPage, origin: string | undefined): string {
  const site = siteName(shell);
  const preview = page.preview;
  // Functions, not strings, as replacements: a caption's "$&" is text, not a pattern.
  const titled = (title: string) => shell.replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(title)}</title>`);
  if (preview === undefined) return page.status === 404 ? titled(`Not found · ${site}`) : shell;
  const absolute = (p: string) => (origin === undefined ? p : `${origin}${p}`);
  const meta = (attr: 'property' | 'name', key: string, value: string | number) =>
    `<meta ${attr}="${key}" content="${escapeHtml(String(value))}">`;
  const url = absolute(path);
  const tags = [
    `<link rel="canonical" href="${escapeHtml(url)}">`,
    meta('property', 'og:site_name', site),
    meta('property', 'og:type', preview.type),
    meta('property', 'og:title', preview.title),
    meta('property', 'og:description', preview.description),
    meta('property', 'og:url', url),
  ];
  const image = preview.image;
  if (image)
    tags.push(
      meta('property', 'og:image', absolute(image.url)),
      meta('property', 'og:image:type', image.type),
      meta('property', 'og:image:width', image.width),
      meta('property', 'og:image:height', image.height),
      meta('property', 'og:image:alt', image.alt),
    );
  tags.push(
    meta('name', 'twitter:card', preview.card),
    meta('name', 'twitter:title', preview.title),
    meta('name', 'twitter:description', preview.description),
  );
  if (image)
    tags.push(meta('name', 'twitter:image', absolute(image.url)), meta('name', 'twitter:image:alt', image.alt));
  return titled(preview.title)
    .replace(/<meta name="description" content="[^"]*">/, () => meta('name', 'description', preview.description))
    .replace('</head>', () => `${tags.map((t) => `  ${t}`).join('\n')}\n</head>`);
}
