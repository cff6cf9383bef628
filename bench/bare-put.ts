import * as http from 'node:http';
import { SigV4Signer } from './sigv4';

/** Where bare PUTs go: the bench's MinIO bucket, with its HMAC keys. */
export interface BarePutTarget {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  /** Keep-alive sockets, as COS_MAX_CONCURRENCY. */
  readonly concurrency: number;
}

export interface BarePut {
  /** PUTs one object; `path` from `objectPath`. Rejects on anything but 200. */
  put(path: string, body: Buffer): Promise<void>;
  close(): void;
}

const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The request path of a key, URI-encoded segment by segment as S3 signs it. */
export const objectPath = (bucket: string, key: string): string => `/${encodeSegment(bucket)}/${key.split('/').map(encodeSegment).join('/')}`;

/**
 * The least a client can do per PUT: Node's own http client over keep-alive sockets, signed with
 * the small SigV4 signer (the payload hashed, as the SDK does; no Content-MD5, no retries, no
 * response parsing beyond the status). B3's limit and B5's bare loop both PUT through it.
 */
export const barePut = (target: BarePutTarget): BarePut => {
  const url = new URL(target.endpoint);
  const signer = new SigV4Signer(target.accessKeyId, target.secretAccessKey, target.region);
  const agent = new http.Agent({ keepAlive: true, maxSockets: target.concurrency });
  return {
    put: (path, body) =>
      new Promise((resolve, reject) => {
        const headers = signer.sign('PUT', url.host, path, body, new Date(), { 'content-type': 'application/json', 'content-length': String(body.length) });
        const request = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent }, (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`PUT ${path} answered ${response.statusCode}`))));
        });
        request.on('error', reject);
        request.end(body);
      }),
    close: () => agent.destroy(),
  };
};
