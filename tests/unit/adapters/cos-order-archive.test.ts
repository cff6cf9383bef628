import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { CosArchiveOptions, CosOrderArchive } from '../../../src/adapters/cos/cos-order-archive';
import { COS_CLIENTS } from '../../../src/adapters/cos/s3-calls';

/**
 * The retry loop against real HTTP, through each real client (signed HTTP and ibm-cos-sdk). A real S3 server cannot be told to
 * answer SlowDown or 500 on cue, so a scripted responder plays those statuses; everything that a
 * real server can show (credentials, buckets, keep-alive) is tested against MinIO instead.
 */
interface ScriptedStore {
  readonly endpoint: string;
  readonly requests: Array<{ method: string; contentType: string | undefined }>;
  close(): Promise<void>;
}

const errorBody = (code: string): string => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;

/** Answers each request with the next scripted status (S3 error codes by status), then 200s. */
const aScriptedStore = async (script: Array<[number, string]>): Promise<ScriptedStore> => {
  const requests: ScriptedStore['requests'] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ method: req.method ?? '', contentType: req.headers['content-type'] });
      const [status, code] = script.shift() ?? [200, ''];
      if (status === 200) res.writeHead(200, { ETag: '"etag"' }).end();
      else res.writeHead(status, { 'Content-Type': 'application/xml' }).end(errorBody(code));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

const scriptedOptions = (store: ScriptedStore, overrides: Partial<CosArchiveOptions> = {}): CosArchiveOptions => ({
  endpoint: store.endpoint,
  bucket: 'orderflow',
  credentials: { kind: 'hmac', accessKeyId: 'test-key', secretAccessKey: 'test-secret' },
  backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
  ...overrides,
});

const KEY = 'orders/dt=2026-11-22/orderId=o-1001.json';
const BODY = Buffer.from('{"id":"o-1001"}');

describe.each(COS_CLIENTS)('CosOrderArchive retries, client %s', (client) => {
  let store: ScriptedStore;
  let archive: CosOrderArchive;

  afterEach(async () => {
    jest.restoreAllMocks();
    archive.close();
    await store.close();
  });

  const optionsFor = (store: ScriptedStore, overrides: Partial<CosArchiveOptions> = {}): CosArchiveOptions => scriptedOptions(store, { client, ...overrides });

  it('retries SlowDown until the store takes the write', async () => {
    store = await aScriptedStore([
      [503, 'SlowDown'],
      [503, 'SlowDown'],
    ]);
    archive = new CosOrderArchive(optionsFor(store));
    await archive.put(KEY, BODY, 'application/json');
    expect(store.requests).toEqual(Array.from({ length: 3 }, () => ({ method: 'PUT', contentType: 'application/json' })));
  });

  it('gives up after its own attempts, the client adding no retries of its own', async () => {
    store = await aScriptedStore(Array.from({ length: 10 }, () => [500, 'InternalError'] as [number, string]));
    archive = new CosOrderArchive(optionsFor(store, { backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } }));
    await expect(archive.put(KEY, BODY, 'application/json')).rejects.toMatchObject({ kind: 'server', code: 'InternalError', attempts: 2 });
    expect(store.requests).toHaveLength(2);
  });

  it('does not retry what another attempt cannot fix', async () => {
    store = await aScriptedStore([[403, 'AccessDenied']]);
    archive = new CosOrderArchive(optionsFor(store));
    await expect(archive.put(KEY, BODY, 'application/json')).rejects.toMatchObject({ kind: 'access-denied', attempts: 1 });
    expect(store.requests).toHaveLength(1);
  });

  it('cuts a backoff wait short on close, reporting the last failure', async () => {
    store = await aScriptedStore([[503, 'SlowDown']]);
    archive = new CosOrderArchive(optionsFor(store, { backoff: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 } }));
    // The jitter is drawn just before the wait begins: the moment to close. Half of 60 s, so the
    // wait cannot be near zero by chance.
    jest.spyOn(Math, 'random').mockImplementation(() => {
      setImmediate(() => archive.close());
      return 0.5;
    });
    const startedAt = Date.now();
    await expect(archive.put(KEY, BODY, 'application/json')).rejects.toMatchObject({ kind: 'throttled', code: 'SlowDown', attempts: 1 });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await expect(archive.put(KEY, BODY, 'application/json')).rejects.toThrow('CosOrderArchive is closed');
  });
});

describe('CosOrderArchive with the http client: addressing', () => {
  afterEach(() => jest.restoreAllMocks());

  it('sends virtual-host requests to bucket.host with the key as the path, and path-style ones to host/bucket/key', async () => {
    const seen: Array<{ host: string | undefined; url: string | undefined; auth: boolean; sha256: string | undefined }> = [];
    const server = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, url: req.url, auth: /^AWS4-HMAC-SHA256 Credential=test-key\//.test(req.headers.authorization ?? ''), sha256: req.headers['x-amz-content-sha256'] as string | undefined });
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // No resolver knows orderflow.127.0.0.1: the agent's connection goes to the server, the Host header stays as sent.
    const connect = http.Agent.prototype.createConnection;
    jest.spyOn(http.Agent.prototype, 'createConnection').mockImplementation(function (this: http.Agent, options, callback) {
      return connect.call(this, { ...options, host: '127.0.0.1' }, callback);
    } as typeof connect);
    const archive = (forcePathStyle: boolean): CosOrderArchive =>
      new CosOrderArchive({ endpoint: `http://127.0.0.1:${port}`, bucket: 'orderflow', credentials: { kind: 'hmac', accessKeyId: 'test-key', secretAccessKey: 'test-secret' }, forcePathStyle, client: 'http' });
    const [virtual, pathStyle] = [archive(false), archive(true)];
    try {
      await virtual.put('orders/a b+é.json', BODY, 'application/json');
      await pathStyle.put('orders/a b+é.json', BODY, 'application/json');
      const bodyHash = createHash('sha256').update(BODY).digest('hex');
      expect(seen).toEqual([
        { host: `orderflow.127.0.0.1:${port}`, url: '/orders/a%20b%2B%C3%A9.json', auth: true, sha256: bodyHash },
        { host: `127.0.0.1:${port}`, url: '/orderflow/orders/a%20b%2B%C3%A9.json', auth: true, sha256: bodyHash },
      ]);
    } finally {
      virtual.close();
      pathStyle.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses IAM credentials, which only ibm-cos-sdk can use', () => {
    const make = (): CosOrderArchive =>
      new CosOrderArchive({ endpoint: 'https://s3.example.com', bucket: 'b', credentials: { kind: 'iam', apiKey: 'iam-api-key-123', serviceInstanceId: 'crn' }, client: 'http' });
    expect(make).toThrow('The http COS client signs with HMAC keys; IAM API keys need the ibm-cos-sdk client');
    expect(make).not.toThrow(/iam-api-key-123/);
    expect(new CosOrderArchive({ endpoint: 'https://s3.example.com', bucket: 'b', credentials: { kind: 'iam', apiKey: 'k', serviceInstanceId: 'crn' } }).client).toBe('ibm-cos-sdk');
    expect(new CosOrderArchive({ endpoint: 'https://s3.example.com', bucket: 'b', credentials: { kind: 'hmac', accessKeyId: 'k', secretAccessKey: 's' } }).client).toBe('http');
  });
});

describe('CosOrderArchive configuration', () => {
  it('refuses IAM over plain http, without echoing the API key', () => {
    const make = (): CosOrderArchive =>
      new CosOrderArchive({
        endpoint: 'http://s3.example.com',
        bucket: 'orderflow',
        credentials: { kind: 'iam', apiKey: 'iam-api-key-123', serviceInstanceId: 'crn:v1:instance' },
      });
    expect(make).toThrow('COS endpoint http://s3.example.com must use https with IAM authentication');
    expect(make).not.toThrow(/iam-api-key-123/);
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    const make = (endpoint: string) => () =>
      new CosOrderArchive({ endpoint, bucket: 'b', credentials: { kind: 'hmac', accessKeyId: 'k', secretAccessKey: 's' } });
    expect(make('s3.us-south.cloud-object-storage.appdomain.cloud')).toThrow('is not a URL');
    expect(make('ftp://example.com')).toThrow('must be http or https, not ftp:');
  });
});

describe.each(COS_CLIENTS)('CosOrderArchive readiness probes, client %s', (client) => {
  it('answers headBucket while every write slot is held by a write the store has not answered', async () => {
    const heldPuts: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.method === 'PUT') heldPuts.push(res);
        else res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const probed = new CosOrderArchive({
      endpoint,
      bucket: 'orderflow',
      credentials: { kind: 'hmac', accessKeyId: 'test-key', secretAccessKey: 'test-secret' },
      maxConcurrency: 1,
      client,
    });
    const answerPuts = (): void => void heldPuts.splice(0).forEach((res) => res.writeHead(200, { ETag: '"etag"' }).end());
    // Should the probe queue behind the write, the write is answered after a while and the probe after it.
    const release = setTimeout(answerPuts, 1_000);
    try {
      let putSettled = false;
      const put = probed.put(KEY, BODY, 'application/json').finally(() => {
        putSettled = true;
      });
      while (heldPuts.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await probed.headBucket();
      expect(putSettled).toBe(false);
      answerPuts();
      await put;
    } finally {
      clearTimeout(release);
      answerPuts();
      probed.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
