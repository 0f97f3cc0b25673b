// One error type with a code, because errors cross MessagePorts: a subclass arrives (Node 20 and 24)
// as a plain Error with its `code` gone. Callers branch on `code` (or isNotFound & co.), send
// toWire() across threads and rebuild with fromWire() on the other side.

export type EngineErrorCode =
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'NOT_MODIFIED'
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'SERVER_ERROR'
  | 'UNEXPECTED_STATUS'
  | 'ENGINE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'STREAM_ERROR'
  | 'PROTOCOL_ERROR'
  | 'UNSUPPORTED_API';

const CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'NOT_FOUND',
  'CONFLICT',
  'NOT_MODIFIED',
  'BAD_REQUEST',
  'FORBIDDEN',
  'SERVER_ERROR',
  'UNEXPECTED_STATUS',
  'ENGINE_UNAVAILABLE',
  'TIMEOUT',
  'ABORTED',
  'STREAM_ERROR',
  'PROTOCOL_ERROR',
  'UNSUPPORTED_API',
]);

export interface EngineErrorDetails {
  status?: number;
  method?: string;
  /** API path without the version prefix, e.g. "/containers/abc/start". */
  path?: string;
  /** The engine's own words (its `message` or stream `error`), when it gave any. */
  engineMessage?: string;
  cause?: unknown;
}

/** Plain-object form, safe for structured clone and JSON. */
export interface EngineErrorWire {
  name: 'EngineError';
  code: EngineErrorCode;
  message: string;
  status?: number;
  method?: string;
  path?: string;
  engineMessage?: string;
}

export class EngineError extends Error {
  override name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly status: number | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly engineMessage: string | undefined;

  constructor(code: EngineErrorCode, message: string, details: EngineErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.engineMessage = details.engineMessage;
  }

  toWire(): EngineErrorWire {
    const wire: EngineErrorWire = { name: 'EngineError', code: this.code, message: this.message };
    if (this.status !== undefined) wire.status = this.status;
    if (this.method !== undefined) wire.method = this.method;
    if (this.path !== undefined) wire.path = this.path;
    if (this.engineMessage !== undefined) wire.engineMessage = this.engineMessage;
    return wire;
  }

  toJSON(): EngineErrorWire {
    return this.toWire();
  }
}

export class NotFoundError extends EngineError {
  override name = 'NotFoundError';
  constructor(message: string, details: EngineErrorDetails = {}) {
    super('NOT_FOUND', message, details);
  }
}

export class ConflictError extends EngineError {
  override name = 'ConflictError';
  constructor(message: string, details: EngineErrorDetails = {}) {
    super('CONFLICT', message, details);
  }
}

/** The one place an HTTP status becomes a code. */
export function codeForStatus(status: number): EngineErrorCode {
  if (status === 304) return 'NOT_MODIFIED';
  if (status === 400 || status === 422) return 'BAD_REQUEST';
  if (status === 401 || status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status >= 500) return 'SERVER_ERROR';
  return 'UNEXPECTED_STATUS';
}

/** Builds the right class for a code, so NotFoundError/ConflictError survive fromWire too. */
export function engineError(code: EngineErrorCode, message: string, details: EngineErrorDetails = {}): EngineError {
  if (code === 'NOT_FOUND') return new NotFoundError(message, details);
  if (code === 'CONFLICT') return new ConflictError(message, details);
  return new EngineError(code, message, details);
}

export function errorForStatus(
  status: number,
  method: string,
  path: string,
  engineMessage: string | undefined,
): EngineError {
  const said = engineMessage?.trim() || `HTTP ${status}`;
  // Podman's compatible API (4.3) answers a taken container name with 500, not Docker's 409.
  const code = status === 500 && /name .* is already in use/.test(said) ? 'CONFLICT' : codeForStatus(status);
  return engineError(code, `${said} (${method} ${path} → ${status})`, {
    status,
    method,
    path,
    ...(engineMessage ? { engineMessage: engineMessage.trim() } : {}),
  });
}

export function toWire(error: EngineError): EngineErrorWire {
  return error.toWire();
}

export function fromWire(wire: EngineErrorWire): EngineError {
  const code: EngineErrorCode = CODES.has(wire.code) ? wire.code : 'UNEXPECTED_STATUS';
  const details: EngineErrorDetails = {};
  if (wire.status !== undefined) details.status = wire.status;
  if (wire.method !== undefined) details.method = wire.method;
  if (wire.path !== undefined) details.path = wire.path;
  if (wire.engineMessage !== undefined) details.engineMessage = wire.engineMessage;
  return engineError(code, wire.message, details);
}

/** The code of an EngineError or of its wire form; undefined for anything else. */
export function engineErrorCode(error: unknown): EngineErrorCode | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && CODES.has(code) ? (code as EngineErrorCode) : undefined;
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}

export const isNotFound = (error: unknown): boolean => engineErrorCode(error) === 'NOT_FOUND';
export const isConflict = (error: unknown): boolean => engineErrorCode(error) === 'CONFLICT';
export const isEngineUnavailable = (error: unknown): boolean => engineErrorCode(error) === 'ENGINE_UNAVAILABLE';
export const isTimeout = (error: unknown): boolean => engineErrorCode(error) === 'TIMEOUT';
