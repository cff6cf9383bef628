import { classifyCosError, CosArchiveError, CosFailureKind, describeCosFailure, displayEndpoint } from '../../../src/adapters/cos/cos-errors';

/** Errors shaped as ibm-cos-sdk (aws-sdk v2) builds them: an Error with code, statusCode and maybe originalError. */
const anSdkError = (fields: { code?: string; statusCode?: number; message?: string; originalError?: unknown }): Error =>
  Object.assign(new Error(fields.message ?? ''), fields);

const context = { operation: 'PutObject', endpoint: 'http://127.0.0.1:19000', bucket: 'orderflow', key: 'orders/dt=2026-11-22/orderId=o-1.json', attempts: 1 };

describe('classifyCosError', () => {
  it.each<[string, Parameters<typeof anSdkError>[0], CosFailureKind]>([
    ['a refused connection', { code: 'NetworkingError', message: 'connect ECONNREFUSED 127.0.0.1:19000' }, 'connection'],
    ['a raw ECONNRESET (IAM requests skip the SDK renaming)', { code: 'ECONNRESET', message: 'read ECONNRESET' }, 'connection'],
    ['a socket hang up without a code', { message: 'socket hang up' }, 'connection'],
    ['a DNS failure', { code: 'NetworkingError', message: 'getaddrinfo ENOTFOUND cos.invalid' }, 'connection'],
    ['the SDK timeout (also what it makes of ECONNRESET and EPIPE)', { code: 'TimeoutError', message: 'Connection timed out after 10000ms' }, 'timeout'],
    ['an ETIMEDOUT', { code: 'ETIMEDOUT' }, 'timeout'],
    ['S3 RequestTimeout, although it is a 400', { code: 'RequestTimeout', statusCode: 400 }, 'timeout'],
    ['SlowDown, although it is a 503', { code: 'SlowDown', statusCode: 503 }, 'throttled'],
    ['a bare 429', { code: 'SomethingNew', statusCode: 429 }, 'throttled'],
    ['InternalError', { code: 'InternalError', statusCode: 500 }, 'server'],
    ['a 503 ServiceUnavailable', { code: 'ServiceUnavailable', statusCode: 503 }, 'server'],
  ])('retries %s', (_, fields, kind) => {
    expect(classifyCosError(anSdkError(fields))).toMatchObject({ kind, retryable: true });
  });

  it.each<[string, Parameters<typeof anSdkError>[0], CosFailureKind]>([
    ['InvalidAccessKeyId', { code: 'InvalidAccessKeyId', statusCode: 403 }, 'credentials'],
    ['SignatureDoesNotMatch', { code: 'SignatureDoesNotMatch', statusCode: 403 }, 'credentials'],
    ['AccessDenied', { code: 'AccessDenied', statusCode: 403 }, 'access-denied'],
    ['a bodiless 403 on a HEAD', { code: 'Forbidden', statusCode: 403 }, 'access-denied'],
    ['NoSuchBucket', { code: 'NoSuchBucket', statusCode: 404 }, 'no-such-bucket'],
    ['any other 4xx', { code: 'InvalidArgument', statusCode: 400 }, 'rejected'],
    ['an error that is not from the SDK', { message: 'Cannot read properties of undefined' }, 'unexpected'],
  ])('fails fast on %s', (_, fields, kind) => {
    expect(classifyCosError(anSdkError(fields))).toMatchObject({ kind, retryable: false });
  });

  it('reads a bodiless 404 on HeadBucket as a missing bucket, and nowhere else', () => {
    const notFound = anSdkError({ code: 'NotFound', statusCode: 404 });
    expect(classifyCosError(notFound, 'HeadBucket')).toMatchObject({ kind: 'no-such-bucket', code: 'NoSuchBucket' });
    expect(classifyCosError(notFound, 'HeadObject')).toMatchObject({ kind: 'rejected', code: 'NotFound' });
  });

  it('looks past the SDK renaming every socket error to UnknownEndpoint', () => {
    const original = anSdkError({ code: 'NetworkingError', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    const renamed = anSdkError({ code: 'UnknownEndpoint', message: "Inaccessible host: `127.0.0.1' at port `1'.", originalError: original });
    expect(classifyCosError(renamed)).toMatchObject({ kind: 'connection', retryable: true, detail: 'connect ECONNREFUSED 127.0.0.1:1' });
  });

  it('treats an API key IAM refuses as bad credentials, and IAM being unreachable or down as transient', () => {
    const refused = anSdkError({ code: 'CredentialsError', statusCode: 400, message: 'Could not load credentials from Credentials' });
    const unreachable = anSdkError({
      code: 'CredentialsError',
      message: 'Could not load credentials from Credentials',
      originalError: anSdkError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED iam' }),
    });
    const down = anSdkError({ code: 'CredentialsError', statusCode: 503 });
    expect(classifyCosError(refused)).toMatchObject({ kind: 'credentials', retryable: false, code: 'CredentialsError' });
    expect(classifyCosError(unreachable)).toMatchObject({ kind: 'connection', retryable: true, code: 'CredentialsError' });
    expect(classifyCosError(down)).toMatchObject({ kind: 'server', retryable: true });
  });

  it('copes with things thrown that are not errors', () => {
    expect(classifyCosError('boom')).toMatchObject({ kind: 'unexpected', retryable: false, detail: 'boom' });
    expect(classifyCosError(undefined)).toMatchObject({ kind: 'unexpected', retryable: false });
  });
});

describe('describeCosFailure', () => {
  it('names the cause, the bucket and the endpoint of rejected credentials', () => {
    const failure = classifyCosError(anSdkError({ code: 'InvalidAccessKeyId', statusCode: 403 }));
    expect(describeCosFailure(failure, context)).toBe(
      'PutObject orders/dt=2026-11-22/orderId=o-1.json: COS rejected the credentials (InvalidAccessKeyId) for bucket "orderflow" at endpoint http://127.0.0.1:19000',
    );
  });

  it('says how many attempts a transient failure got, and only then', () => {
    const refused = classifyCosError(anSdkError({ code: 'NetworkingError', message: 'connect ECONNREFUSED 127.0.0.1:19000' }));
    expect(describeCosFailure(refused, { ...context, key: undefined, operation: 'HeadBucket', attempts: 3 })).toBe(
      'HeadBucket: Could not connect to COS at endpoint http://127.0.0.1:19000 (NetworkingError: connect ECONNREFUSED 127.0.0.1:19000) (gave up after 3 attempts)',
    );
    const missing = classifyCosError(anSdkError({ code: 'NoSuchBucket', statusCode: 404 }));
    expect(describeCosFailure(missing, context)).not.toContain('attempt');
  });

  it('never shows credentials written into the endpoint URL', () => {
    expect(displayEndpoint('https://user:p4ss@s3.example.com:8443/')).toBe('https://s3.example.com:8443');
    const failure = classifyCosError(anSdkError({ code: 'AccessDenied', statusCode: 403 }));
    expect(describeCosFailure(failure, { ...context, endpoint: 'https://user:p4ss@s3.example.com' })).not.toContain('p4ss');
  });
});

describe('CosArchiveError', () => {
  it('redacts the secrets it is given from whatever the server said', () => {
    const secret = 'hunter2-very-secret';
    const failure = classifyCosError(anSdkError({ code: 'InvalidArgument', statusCode: 400, message: `Bad header x-secret: ${secret}` }));
    const error = new CosArchiveError(failure, context, [secret, '']);
    expect(error.message).toContain('[redacted]');
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(secret);
    expect(error).toMatchObject({ name: 'CosArchiveError', kind: 'rejected', code: 'InvalidArgument', statusCode: 400, retryable: false, attempts: 1 });
  });
});
