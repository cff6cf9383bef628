import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import S3 from 'ibm-cos-sdk/clients/s3';
import { CHECK_PREFIX, CosArchiveOptions, CosOrderArchive } from '../../../src/adapters/cos/cos-order-archive';
import { CosArchiveError } from '../../../src/adapters/cos/cos-errors';
import { COS_CLIENTS, CosClient } from '../../../src/adapters/cos/s3-calls';
import { describeOrderArchiveContract } from '../../contract/order-archive.contract';
import { describeLifecycleContract } from '../../contract/lifecycle.contract';
import { readStackEnv } from '../../support/stack-env';

const stack = readStackEnv();
/** Every object this run writes lives under here; afterAll deletes it, so runs never see each other. */
const RUN_PREFIX = `it-cos/${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
/** Retries in milliseconds, not seconds: the failure tests wait for the attempts to run out. */
const QUICK_BACKOFF = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };

const optionsFor = (overrides: Partial<CosArchiveOptions> = {}): CosArchiveOptions => ({
  endpoint: stack.cosEndpoint,
  bucket: stack.cosBucket,
  credentials: { kind: 'hmac', accessKeyId: stack.cosAccessKeyId, secretAccessKey: stack.cosSecretAccessKey },
  backoff: QUICK_BACKOFF,
  ...overrides,
});

/** A plain SDK client for what the port does not offer: reading metadata and deleting test objects. */
const admin = new S3({
  endpoint: stack.cosEndpoint,
  accessKeyId: stack.cosAccessKeyId,
  secretAccessKey: stack.cosSecretAccessKey,
  s3ForcePathStyle: true,
  signatureVersion: 'v4',
  region: 'us-east-1',
});

const deleteUnder = async (prefix: string): Promise<void> => {
  let ContinuationToken: string | undefined;
  do {
    const page = await admin.listObjectsV2({ Bucket: stack.cosBucket, Prefix: prefix, ContinuationToken }).promise();
    const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (objects.length > 0) await admin.deleteObjects({ Bucket: stack.cosBucket, Delete: { Objects: objects } }).promise();
    ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (ContinuationToken !== undefined);
};

/** A port nothing listens on: bind an ephemeral one, then let it go. */
const closedPort = async (): Promise<number> => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

const rejectionOf = async (promise: Promise<unknown>): Promise<CosArchiveError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CosArchiveError)) throw new Error(`Expected a CosArchiveError, got ${String(error)}`);
  return error;
};

const archives: CosOrderArchive[] = [];
const anArchiveWith =
  (client: CosClient) =>
  (overrides: Partial<CosArchiveOptions> = {}): CosOrderArchive => {
    const archive = new CosOrderArchive(optionsFor({ client, ...overrides }));
    archives.push(archive);
    return archive;
  };

beforeAll(async () => {
  if (!stack.createBucket) return;
  try {
    await admin.createBucket({ Bucket: stack.cosBucket }).promise();
  } catch (error) {
    if ((error as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw error;
  }
});

afterAll(async () => {
  archives.forEach((archive) => archive.close());
  await deleteUnder(`${RUN_PREFIX}/`);
});

/** The whole suite, unchanged, once per client: both must behave alike against the real server. */
describe.each(COS_CLIENTS)('with the %s client', (client) => {
  const anArchive = anArchiveWith(client);
  let fixtures = 0;

  describeOrderArchiveContract(`CosOrderArchive (${client} client) on MinIO`, async () => {
    const archive = anArchive();
    const prefix = `${RUN_PREFIX}/${client}/contract-${++fixtures}`;
    return {
      archive,
      prefix,
      cleanup: async () => {
        archive.close();
        await deleteUnder(`${prefix}/`);
      },
    };
  });

  describeLifecycleContract(`CosOrderArchive (${client} client) on MinIO`, async () => {
    const archive = anArchive();
    return { resource: archive, use: () => archive.put(`${RUN_PREFIX}/${client}/lifecycle/o-${++fixtures}.json`, Buffer.from('{}'), 'application/json') };
  });

  describe(`CosOrderArchive (${client} client) on MinIO`, () => {
    const key = (name: string): string => `${RUN_PREFIX}/${client}/dt=2026-11-22/orderId=${name}.json`;

    it('stores orders as application/json', async () => {
      await anArchive().put(key('o-type'), Buffer.from('{"id":"o-type"}'), 'application/json');
      const head = await admin.headObject({ Bucket: stack.cosBucket, Key: key('o-type') }).promise();
      expect(head.ContentType).toBe('application/json');
    });

    it('lists every key of a prefix that spans several pages', async () => {
      const archive = anArchive({ maxConcurrency: 16 });
      // One more than the 1000 keys a ListObjectsV2 page holds.
      const names = Array.from({ length: 1001 }, (_, i) => `o-page-${String(i).padStart(4, '0')}`);
      await Promise.all(names.map((name) => archive.put(`${RUN_PREFIX}/${client}/paged/${name}`, Buffer.from('{}'), 'application/json')));
      const listed = await archive.list(`${RUN_PREFIX}/${client}/paged/`);
      expect(listed).toEqual(names.map((name) => `${RUN_PREFIX}/${client}/paged/${name}`));
    });

    it('round-trips keys with characters that need encoding in a URL, a signature or XML', async () => {
      const archive = anArchive();
      // A space, = and + (which some decoders read as a space), é (UTF-8), and XML's & < > ' ".
      const names = ['a b', 'x=y', 'p+q', 'café', `amp&lt<gt>'quote"`, 'paren(s)!*~'];
      const keys = names.map((name) => `${RUN_PREFIX}/${client}/encoded/dt=2026-11-22/orderId=${name}.json`);
      await Promise.all(keys.map((k, i) => archive.put(k, Buffer.from(`{"i":${i}}`), 'application/json')));
      for (const [i, k] of keys.entries()) expect((await archive.get(k))?.toString()).toBe(`{"i":${i}}`);
      expect(await archive.list(`${RUN_PREFIX}/${client}/encoded/`)).toEqual([...keys].sort());
      expect(await archive.list(`${RUN_PREFIX}/${client}/encoded/dt=2026-11-22/orderId=p+q`)).toEqual([keys[2]]);
    });

    it('times out a request the store accepts and never answers, and retries it', async () => {
      const silent = net.createServer((socket) => socket.on('data', () => undefined));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const sockets: net.Socket[] = [];
      silent.on('connection', (socket) => sockets.push(socket));
      try {
        const startedAt = Date.now();
        const error = await rejectionOf(anArchive({ endpoint, requestTimeoutMs: 200 }).put(key('o-silent'), Buffer.from('{}'), 'application/json'));
        expect(error).toMatchObject({ kind: 'timeout', retryable: true, attempts: QUICK_BACKOFF.maxAttempts });
        expect(error.message).toContain(`COS at endpoint ${endpoint} did not answer in time`);
        // Three attempts of 200 ms and short backoffs: the requests were really cut off, not left to hang…
        expect(Date.now() - startedAt).toBeLessThan(5_000);
        // … and their sockets closed by the client, not kept waiting for an answer.
        expect(sockets.length).toBeGreaterThan(0);
        const deadline = Date.now() + 2_000;
        while (sockets.some((socket) => !socket.closed) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(sockets.filter((socket) => !socket.closed)).toHaveLength(0);
      } finally {
        sockets.forEach((socket) => socket.destroy());
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it.each([
      ['a wrong secret key', { secretAccessKey: `wrong-${randomUUID()}` }, 'SignatureDoesNotMatch'],
      ['an unknown access key', { accessKeyId: `unknown-${randomUUID().slice(0, 8)}` }, 'InvalidAccessKeyId'],
    ])('fails at once with %s, naming the cause and not the secret', async (_, wrong, code) => {
      const credentials = { kind: 'hmac' as const, accessKeyId: stack.cosAccessKeyId, secretAccessKey: stack.cosSecretAccessKey, ...wrong };
      const error = await rejectionOf(anArchive({ credentials }).put(key('o-denied'), Buffer.from('{}'), 'application/json'));
      expect(error).toMatchObject({ kind: 'credentials', code, retryable: false, attempts: 1 });
      expect(error.message).toContain(`COS rejected the credentials (${code}) for bucket "${stack.cosBucket}" at endpoint`);
      const everything = `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`;
      expect(everything).not.toContain(credentials.secretAccessKey);
      expect(everything).not.toContain(stack.cosSecretAccessKey);
    });

    it('fails at once on a missing bucket, saying so', async () => {
      const bucket = `orderflow-missing-${randomUUID().slice(0, 8)}`;
      const archive = anArchive({ bucket });
      const onPut = await rejectionOf(archive.put(key('o-nobucket'), Buffer.from('{}'), 'application/json'));
      expect(onPut).toMatchObject({ kind: 'no-such-bucket', code: 'NoSuchBucket', attempts: 1 });
      expect(onPut.message).toContain(`COS has no bucket "${bucket}" at endpoint`);
      await expect(archive.headBucket()).rejects.toMatchObject({ kind: 'no-such-bucket', code: 'NoSuchBucket' });
    });

    it('retries an unreachable endpoint, then reports the connection failure', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const error = await rejectionOf(anArchive({ endpoint }).put(key('o-unreachable'), Buffer.from('{}'), 'application/json'));
      expect(error).toMatchObject({ kind: 'connection', retryable: true, attempts: QUICK_BACKOFF.maxAttempts });
      expect(error.message).toContain(`Could not connect to COS at endpoint ${endpoint}`);
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('reuses keep-alive connections instead of opening one per request', async () => {
      const Agent = new URL(stack.cosEndpoint).protocol === 'https:' ? https.Agent : http.Agent;
      const archive = anArchive({ maxConcurrency: 4 });
      const connections = jest.spyOn(Agent.prototype, 'createConnection');
      try {
        const names = Array.from({ length: 50 }, (_, i) => `o-ka-${i}`);
        await Promise.all(names.map((name) => archive.put(key(name), Buffer.from('{}'), 'application/json')));
        for (const name of names.slice(0, 10)) await archive.get(key(name));
        expect(connections.mock.calls.length).toBeGreaterThan(0);
        expect(connections.mock.calls.length).toBeLessThanOrEqual(4);
      } finally {
        connections.mockRestore();
      }
    });

    it('checks readiness and writability, leaving no probe behind', async () => {
      const archive = anArchive();
      const probesBefore = await archive.list(CHECK_PREFIX);
      await archive.headBucket();
      await archive.checkWritable();
      const newProbes = (await archive.list(CHECK_PREFIX)).filter((k) => !probesBefore.includes(k));
      expect(newProbes).toEqual([]);
    });

    it('is ready when the bucket answers a HEAD, and not on a missing bucket or wrong keys, without the secret in the reason', async () => {
      await expect(anArchive().ready()).resolves.toBeUndefined();
      const bucket = `orderflow-missing-${randomUUID().slice(0, 8)}`;
      await expect(anArchive({ bucket }).ready()).rejects.toThrow(`COS has no bucket "${bucket}" at endpoint`);
      const secretAccessKey = `wrong-${randomUUID()}`;
      const wrongKeys = await rejectionOf(anArchive({ credentials: { kind: 'hmac', accessKeyId: stack.cosAccessKeyId, secretAccessKey } }).ready());
      // A HEAD has no body: a wrong secret and a missing permission look the same (403). verify() tells them apart.
      expect(wrongKeys).toMatchObject({ statusCode: 403, retryable: false });
      expect(`${wrongKeys.message} ${wrongKeys.stack ?? ''}`).not.toContain(secretAccessKey);
    });

    it('verifies by a write, which names wrong keys as such, and leaves no probe behind', async () => {
      const probesBefore = await anArchive().list(CHECK_PREFIX);
      await anArchive().verify();
      expect((await anArchive().list(CHECK_PREFIX)).filter((k) => !probesBefore.includes(k))).toEqual([]);
      const credentials = { kind: 'hmac' as const, accessKeyId: stack.cosAccessKeyId, secretAccessKey: `wrong-${randomUUID()}` };
      await expect(anArchive({ credentials }).verify()).rejects.toMatchObject({ kind: 'credentials', code: 'SignatureDoesNotMatch' });
    });

    it('refuses to start again once closed', async () => {
      const archive = anArchive();
      await archive.start();
      await archive.close();
      await expect(archive.start()).rejects.toThrow('CosOrderArchive is closed');
    });
  });
});
