/**
 * What a failed COS request means, decided from the SDK's error alone, so the retry policy and the
 * messages can be unit tested without a server.
 *
 * The split that matters: the network, a slow or overloaded store, or a 5xx may well succeed on
 * the next attempt; a rejected key, a missing permission or a missing bucket never will, and
 * retrying them only delays the message an operator needs to read.
 */
export type CosFailureKind =
  | 'connection'
  | 'timeout'
  | 'throttled'
  | 'server'
  | 'credentials'
  | 'access-denied'
  | 'no-such-bucket'
  | 'rejected'
  | 'unexpected';

export interface CosFailure {
  readonly kind: CosFailureKind;
  readonly retryable: boolean;
  /** The S3 code (InvalidAccessKeyId, SlowDown…) or the SDK's (NetworkingError, TimeoutError…). */
  readonly code: string;
  readonly statusCode: number | undefined;
  /** The SDK's own words, e.g. "connect ECONNREFUSED 127.0.0.1:19000". */
  readonly detail: string;
}

const RETRYABLE_KINDS: ReadonlySet<CosFailureKind> = new Set(['connection', 'timeout', 'throttled', 'server']);

const CODES: ReadonlyArray<readonly [CosFailureKind, ReadonlySet<string>]> = [
  ['credentials', new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'AuthorizationHeaderMalformed'])],
  ['access-denied', new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled'])],
  ['no-such-bucket', new Set(['NoSuchBucket'])],
  // SlowDown arrives as a 503 and RequestTimeout as a 400, so codes are looked at before statuses.
  ['throttled', new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests', 'TooManyRequestsException', 'RequestThrottled', 'BandwidthLimitExceeded'])],
  ['timeout', new Set(['TimeoutError', 'RequestTimeout', 'ETIMEDOUT', 'ESOCKETTIMEDOUT'])],
  // The SDK renames most socket errors to NetworkingError (and ECONNRESET/EPIPE to TimeoutError);
  // the raw codes still reach us from IAM token requests, which bypass that renaming.
  ['connection', new Set(['NetworkingError', 'UnknownEndpoint', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])],
];

interface SdkErrorShape {
  readonly code?: unknown;
  readonly statusCode?: unknown;
  readonly message?: unknown;
  readonly originalError?: unknown;
}

/**
 * `operation` disambiguates the bodiless 404 of a HEAD: on HeadBucket it can only mean the bucket
 * is missing.
 */
export const classifyCosError = (error: unknown, operation?: string): CosFailure => {
  const shape: SdkErrorShape = typeof error === 'object' && error !== null ? error : { message: String(error) };
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  const statusCode = typeof shape.statusCode === 'number' ? shape.statusCode : undefined;
  const detail = typeof shape.message === 'string' && shape.message !== '' ? shape.message : (code ?? 'no details');
  const failure = (kind: CosFailureKind, reportedCode: string = code ?? `HTTP ${statusCode ?? '?'}`): CosFailure => ({
    kind,
    retryable: RETRYABLE_KINDS.has(kind),
    code: reportedCode,
    statusCode,
    detail,
  });

  if (code === 'CredentialsError') {
    // IAM could not issue a token. A rejected API key is final; IAM being unreachable or down is not.
    const iam = classifyCosError(shape.originalError ?? { statusCode });
    return iam.retryable ? { ...iam, code } : failure('credentials');
  }
  if (code === 'UnknownEndpoint' && shape.originalError !== undefined) {
    // The SDK's DNS check misfires (`indexOf(name >= 0)`), so every socket error arrives renamed to
    // "Inaccessible host … not available in the region"; the real one, e.g. ECONNREFUSED, is inside.
    return classifyCosError(shape.originalError, operation);
  }
  if (code === 'NotFound' && operation === 'HeadBucket') return failure('no-such-bucket', 'NoSuchBucket');
  for (const [kind, codes] of CODES) if (code !== undefined && codes.has(code)) return failure(kind);
  if (statusCode === 429) return failure('throttled');
  if (statusCode !== undefined && statusCode >= 500) return failure('server');
  if (statusCode === 403) return failure('access-denied');
  if (statusCode !== undefined && statusCode >= 400) return failure('rejected');
  if (/socket hang up/i.test(detail)) return failure('connection', code ?? 'ECONNRESET');
  return failure('unexpected', code ?? 'Error');
};

export interface CosRequestContext {
  /** The S3 operation, e.g. PutObject. */
  readonly operation: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly key?: string;
  readonly attempts: number;
}

/** A failed COS request, told in words an operator can act on. It never carries the SDK error, which could hold more than we want logged. */
export class CosArchiveError extends Error {
  override readonly name = 'CosArchiveError';
  readonly kind: CosFailureKind;
  readonly code: string;
  readonly statusCode: number | undefined;
  readonly retryable: boolean;
  readonly attempts: number;

  constructor(failure: CosFailure, context: CosRequestContext, secrets: readonly string[]) {
    super(redact(describeCosFailure(failure, context), secrets));
    this.kind = failure.kind;
    this.code = failure.code;
    this.statusCode = failure.statusCode;
    this.retryable = failure.retryable;
    this.attempts = context.attempts;
  }
}

export const describeCosFailure = (failure: CosFailure, context: CosRequestContext): string => {
  const endpoint = displayEndpoint(context.endpoint);
  const bucket = `bucket "${context.bucket}" at endpoint ${endpoint}`;
  const status = failure.statusCode === undefined ? '' : `, HTTP ${failure.statusCode}`;
  const what = ((): string => {
    switch (failure.kind) {
      case 'credentials':
        return `COS rejected the credentials (${failure.code}) for ${bucket}`;
      case 'access-denied':
        return `COS denied access (${failure.code}) to ${bucket}; check the credentials and their permissions on the bucket`;
      case 'no-such-bucket':
        return `COS has no ${bucket} (${failure.code})`;
      case 'connection':
        return `Could not connect to COS at endpoint ${endpoint} (${failure.code}: ${failure.detail})`;
      case 'timeout':
        return `COS at endpoint ${endpoint} did not answer in time (${failure.code}: ${failure.detail})`;
      case 'throttled':
        return `COS throttled the requests (${failure.code}${status}) to ${bucket}`;
      case 'server':
        return `COS failed with a server error (${failure.code}${status}) for ${bucket}`;
      case 'rejected':
        return `COS refused the request (${failure.code}${status}) for ${bucket}: ${failure.detail}`;
      case 'unexpected':
        return `COS request for ${bucket} failed (${failure.code}): ${failure.detail}`;
    }
  })();
  const target = context.key === undefined ? context.operation : `${context.operation} ${context.key}`;
  const tries = failure.retryable ? ` (gave up after ${context.attempts} attempt${context.attempts === 1 ? '' : 's'})` : '';
  return `${target}: ${what}${tries}`;
};

/** Scheme, host and port only: an endpoint written as https://user:pass@host must not leak the pass. */
export const displayEndpoint = (endpoint: string): string => {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(invalid endpoint)';
  }
};

/** A last line of defence: whatever text the SDK or a server produced, the keys we hold never get out. */
const redact = (text: string, secrets: readonly string[]): string =>
  secrets.reduce((out, secret) => (secret === '' ? out : out.split(secret).join('[redacted]')), text);
