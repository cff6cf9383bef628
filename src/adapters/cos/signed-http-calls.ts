import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import aws4 from 'aws4';
import { XMLParser } from 'fast-xml-parser';
import { ListPage, S3Calls, S3CallsOptions } from './s3-calls';

/**
 * The S3 requests as SigV4-signed HTTP (aws4) on Node's own http/https, over the archive's
 * keep-alive agent: about the CPU per PUT of the bench's bare loop, where ibm-cos-sdk costs about
 * twice it (adr/0021). HMAC keys only; single small objects only (no multipart); the region is
 * the configured one (no discovery).
 *
 * What the SDK did for us and this client does itself: the payload's SHA-256 in
 * X-Amz-Content-Sha256 (signed), Content-MD5 on PUT (buckets with a retention policy require it;
 * ibm-cos-sdk sends it too), path-style or virtual-host URLs, a connect timeout and a timeout on
 * silence that both really abort the request, and S3's XML error bodies read into the code,
 * status and message that `classifyCosError` classifies.
 */
export class SignedHttpCalls implements S3Calls {
  private readonly transport: Pick<typeof http, 'request'>;
  private readonly hostname: string;
  private readonly port: string;
  /** The Host header, port included when it is not the scheme's default. */
  private readonly host: string;
  private readonly bucketPath: string;
  private readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };

  constructor(private readonly options: S3CallsOptions & { readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } }) {
    const url = new URL(options.endpoint);
    this.transport = url.protocol === 'https:' ? https : http;
    const { accessKeyId, secretAccessKey } = options.credentials;
    this.credentials = { accessKeyId, secretAccessKey };
    if (options.forcePathStyle) {
      this.hostname = url.hostname;
      this.host = url.host;
      this.bucketPath = `/${encodeSegment(options.bucket)}`;
    } else {
      this.hostname = `${options.bucket}.${url.hostname}`;
      this.host = `${options.bucket}.${url.host}`;
      this.bucketPath = '';
    }
    this.port = url.port;
  }

  async putObject(key: string, body: Buffer, contentType: string): Promise<void> {
    const contentMd5 = createHash('md5').update(body).digest('base64');
    await this.send('PUT', this.objectPath(key), { 'Content-Type': contentType, 'Content-MD5': contentMd5 }, body);
  }

  async getObject(key: string): Promise<Buffer | undefined> {
    try {
      return await this.send('GET', this.objectPath(key));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async listObjectsPage(prefix: string, continuationToken: string | undefined): Promise<ListPage> {
    const token = continuationToken === undefined ? '' : `&continuation-token=${encodeURIComponent(continuationToken)}`;
    return parseListPage(await this.send('GET', `${this.bucketPath || '/'}?list-type=2&prefix=${encodeURIComponent(prefix)}${token}`));
  }

  async headBucket(): Promise<void> {
    await this.send('HEAD', this.bucketPath || '/');
  }

  async deleteObject(key: string): Promise<void> {
    await this.send('DELETE', this.objectPath(key));
  }

  private objectPath(key: string): string {
    return `${this.bucketPath}/${key.split('/').map(encodeSegment).join('/')}`;
  }

  /** One signed request; the body of a 2xx answer, or a thrown S3CallError. */
  private send(method: string, path: string, headers: Readonly<Record<string, string>> = {}, body?: Buffer): Promise<Buffer> {
    const signed = aws4.sign(
      { service: 's3', region: this.options.region, method, path, headers: { ...headers, Host: this.host }, ...(body === undefined ? {} : { body }) },
      this.credentials,
    );
    const { requestTimeoutMs, connectTimeoutMs } = this.options;
    return new Promise<Buffer>((resolve, reject) => {
      // Set before the request is destroyed, so that the timeout, not the reset it causes, is reported.
      let abortedWith: Error | undefined;
      const fail = (error: Error): void => reject(abortedWith ?? error);
      const abort = (error: S3CallError): void => {
        abortedWith = error;
        request.destroy(error);
      };
      const request = this.transport.request(
        { hostname: this.hostname, port: this.port, method, path: signed.path, headers: signed.headers, agent: this.options.agent },
        (response) => {
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            // An error body is a few hundred bytes; more is not S3 talking and is not kept.
            if (!ok && size > MAX_ERROR_BODY_BYTES) return;
            size += chunk.length;
            chunks.push(chunk);
          });
          response.on('error', fail);
          response.on('end', () => {
            const answer = Buffer.concat(chunks);
            if (ok) resolve(answer);
            else fail(s3ErrorOf(status, answer));
          });
        },
      );
      request.on('error', fail);
      request.setTimeout(requestTimeoutMs, () => abort(new S3CallError('TimeoutError', `no answer for ${requestTimeoutMs} ms`)));
      request.on('socket', (socket) => {
        // A reused keep-alive socket is connected already; only a new one can hang in its connect.
        if (!socket.connecting) return;
        const connecting = setTimeout(() => abort(new S3CallError('TimeoutError', `connection not established within ${connectTimeoutMs} ms`)), connectTimeoutMs);
        const settled = (): void => clearTimeout(connecting);
        socket.once('connect', settled);
        request.once('close', settled);
      });
      request.end(body);
    });
  }
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** What the S3 calls throw: the fields classifyCosError reads, and nothing of the request. */
export class S3CallError extends Error {
  override readonly name = 'S3CallError';

  constructor(
    readonly code: string | undefined,
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** RFC 3986 encoding of one path segment, as S3 signs it (`encodeURIComponent` leaves !'()* alone). */
const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const xml = new XMLParser({
  ignoreAttributes: true,
  // Keys and tokens are text: "0001" must not become 1, nor " a " become "a".
  parseTagValue: false,
  trimValues: false,
  // Numeric references too: MinIO (Go's encoding/xml) writes a quote in a key as &#34;.
  htmlEntities: true,
  isArray: (_name, jpath) => jpath === 'ListBucketResult.Contents',
});

/**
 * The codes the SDK gives a bodiless error (a HEAD's), and the usual ones of the statuses S3
 * answers; any other status keeps no code, and is reported as "HTTP <status>".
 */
const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  304: 'NotModified',
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  429: 'TooManyRequests',
  500: 'InternalError',
  501: 'NotImplemented',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** A non-2xx answer as an error: S3's `<Error><Code>…</Code><Message>…</Message></Error>`, or the status alone. */
export const s3ErrorOf = (statusCode: number, body: Buffer | string): S3CallError => {
  const error = parsed(body)?.Error as { Code?: unknown; Message?: unknown } | undefined;
  const code = typeof error?.Code === 'string' && error.Code !== '' ? error.Code : CODE_BY_STATUS[statusCode];
  const message = typeof error?.Message === 'string' && error.Message !== '' ? error.Message : (http.STATUS_CODES[statusCode] ?? `HTTP ${statusCode}`);
  return new S3CallError(code, message, statusCode);
};

/** A ListObjectsV2 answer: one `<Contents>` is an object, several an array (isArray makes it always one). */
export const parseListPage = (body: Buffer | string): ListPage => {
  const result = parsed(body)?.ListBucketResult as { Contents?: Array<{ Key?: unknown }>; IsTruncated?: unknown; NextContinuationToken?: unknown } | undefined;
  if (typeof result !== 'object' || result === null) throw new S3CallError('InvalidResponse', 'ListObjectsV2 answered without a ListBucketResult');
  const keys = (result.Contents ?? []).flatMap((object) => (typeof object.Key === 'string' ? [object.Key] : []));
  const truncated = result.IsTruncated === 'true';
  const token = typeof result.NextContinuationToken === 'string' && result.NextContinuationToken !== '' ? result.NextContinuationToken : undefined;
  if (truncated && token === undefined) throw new S3CallError('InvalidResponse', 'ListObjectsV2 answered a truncated page without a NextContinuationToken');
  return { keys, nextContinuationToken: truncated ? token : undefined };
};

const parsed = (body: Buffer | string): Record<string, unknown> | undefined => {
  const text = body.toString();
  if (text.trim() === '') return undefined;
  try {
    return xml.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
