import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { LifecyclePort } from '../../application/ports/lifecycle.port';
import { ReadableOrderArchivePort } from '../../application/ports/order-archive.port';
import { backoffDelay, BackoffPolicy, sleep } from '../../application/retry';
import { ConcurrencyLimit, limitConcurrency } from './concurrency-limit';
import { classifyCosError, CosArchiveError, displayEndpoint } from './cos-errors';
import { IbmCosSdkCalls } from './ibm-cos-sdk-calls';
import { CosClient, CosCredentials, defaultCosClient, S3Calls } from './s3-calls';
import { SignedHttpCalls } from './signed-http-calls';

export type { CosClient, CosCredentials } from './s3-calls';

export interface CosArchiveOptions {
  /** e.g. https://s3.us-south.cloud-object-storage.appdomain.cloud or http://127.0.0.1:19000 */
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: CosCredentials;
  /**
   * `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`. Default true, for every endpoint:
   * IBM COS serves both styles, MinIO and other S3 servers on an IP or a private name serve only
   * this one, and a bucket name with dots breaks TLS on virtual-host URLs.
   */
  readonly forcePathStyle?: boolean;
  /** Requests in flight at once, retries included; the rest wait their turn. Also the socket cap. */
  readonly maxConcurrency?: number;
  /** Attempts per request. It nests inside the use case's own retries, so it stays short. */
  readonly backoff?: BackoffPolicy;
  /** Longest silence on an open socket before the request counts as timed out. */
  readonly requestTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** The SigV4 signing region for HMAC; MinIO's default is us-east-1. */
  readonly region?: string;
  /** Who makes the requests (adr/0021); default: `http` for HMAC keys, `ibm-cos-sdk` for IAM, the only one that handles them. */
  readonly client?: CosClient;
}

/**
 * Short and quick: it smooths over a keep-alive socket the server closed, a brief SlowDown or a
 * failover, and leaves longer outages to the use case's backoff and the bus's redelivery.
 */
export const DEFAULT_COS_BACKOFF: BackoffPolicy = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 1_000 };

const DEFAULTS = {
  forcePathStyle: true,
  maxConcurrency: 64,
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  region: 'us-east-1',
} as const;

/**
 * Where checkWritable's probes go: outside the Hive prefix, and under a name starting with `_`,
 * which Hadoop-based engines skip, so a probe a crash left behind never shows up as data.
 */
export const CHECK_PREFIX = '_orderflow-check/';

/**
 * The archive in IBM Cloud Object Storage, or any S3 server (MinIO in the tests).
 *
 * One client and one keep-alive agent serve the archive's whole life: the seed built a client per
 * write, and the SDK's default agent opens a connection (and a TLS handshake) per request. The
 * client is one of two behind S3Calls (signed HTTP for HMAC keys, ibm-cos-sdk for IAM: adr/0021);
 * everything else is here, once, for both. The retry policy is ours, not the client's: it retries
 * only what can succeed on another attempt, and reports everything else at once, naming the cause
 * and never a secret.
 *
 * There is nothing to open ahead (sockets open with the first request); readiness is a HEAD of the
 * bucket, verify() a write and delete of a probe. Once closed, it stays closed.
 */
export class CosOrderArchive implements ReadableOrderArchivePort, LifecyclePort {
  /** Which client makes the requests: `orderflow check` and the startup log say so. */
  readonly client: CosClient;
  private readonly calls: S3Calls;
  private readonly agent: http.Agent;
  /** Readiness probes: their own client, socket and slot, so writes filling the limit never hold a probe. */
  private readonly probeCalls: S3Calls;
  private readonly probeAgent: http.Agent;
  private readonly probeLimit: ConcurrencyLimit = limitConcurrency(1);
  private readonly bucket: string;
  private readonly endpoint: string;
  private readonly backoff: BackoffPolicy;
  private readonly limit: ConcurrencyLimit;
  private readonly secrets: readonly string[];
  private readonly closing = new AbortController();

  constructor(options: CosArchiveOptions) {
    const { endpoint, bucket, credentials } = options;
    const scheme = schemeOf(endpoint);
    if (credentials.kind === 'iam' && scheme !== 'https:') {
      // The SDK would send the bearer token in clear text, and its IAM calls share our agent.
      throw new Error(`COS endpoint ${displayEndpoint(endpoint)} must use https with IAM authentication`);
    }
    const maxConcurrency = options.maxConcurrency ?? DEFAULTS.maxConcurrency;
    this.bucket = bucket;
    this.endpoint = endpoint;
    this.backoff = options.backoff ?? DEFAULT_COS_BACKOFF;
    this.limit = limitConcurrency(maxConcurrency);
    this.secrets = credentials.kind === 'hmac' ? [credentials.secretAccessKey] : [credentials.apiKey];
    this.client = options.client ?? defaultCosClient(credentials);
    if (this.client === 'http' && credentials.kind === 'iam') {
      throw new Error('The http COS client signs with HMAC keys; IAM API keys need the ibm-cos-sdk client');
    }
    // The limit already bounds requests; matching maxSockets keeps the agent from queueing unseen.
    const newAgent = (maxSockets: number): http.Agent =>
      scheme === 'https:' ? new https.Agent({ keepAlive: true, maxSockets }) : new http.Agent({ keepAlive: true, maxSockets });
    const newCalls = (agent: http.Agent): S3Calls => {
      const common = {
        endpoint,
        bucket,
        forcePathStyle: options.forcePathStyle ?? DEFAULTS.forcePathStyle,
        region: options.region ?? DEFAULTS.region,
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        agent,
      };
      return credentials.kind === 'hmac' && this.client === 'http'
        ? new SignedHttpCalls({ ...common, credentials })
        : new IbmCosSdkCalls({ ...common, credentials });
    };
    this.agent = newAgent(maxConcurrency);
    this.calls = newCalls(this.agent);
    this.probeAgent = newAgent(1);
    this.probeCalls = newCalls(this.probeAgent);
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.request('PutObject', key, () => this.calls.putObject(key, body, contentType));
  }

  async get(key: string): Promise<Buffer | undefined> {
    // Absence is an answer (undefined), not a failure to retry.
    return this.request('GetObject', key, () => this.calls.getObject(key));
  }

  /** Sorted as the sibling adapters sort (UTF-16), not in S3's UTF-8 byte order. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const from = continuationToken;
      const page = await this.request('ListObjectsV2', prefix, () => this.calls.listObjectsPage(prefix, from));
      keys.push(...page.keys);
      continuationToken = page.nextContinuationToken;
    } while (continuationToken !== undefined);
    return keys.sort();
  }

  async start(): Promise<void> {
    if (this.closing.signal.aborted) throw new Error('CosOrderArchive is closed');
  }

  ready(): Promise<void> {
    return this.headBucket();
  }

  verify(): Promise<void> {
    return this.checkWritable();
  }

  /** Readiness: the endpoint answers, the credentials are accepted and the bucket exists. */
  async headBucket(): Promise<void> {
    // Outside the write limit: 64 writes held by a slow store must not make the probe time out,
    // and probes must not take slots from writes (the status server also caches its answer).
    await this.request('HeadBucket', undefined, () => this.probeCalls.headBucket(), this.probeLimit);
  }

  /** Proves the credentials may write (and delete) here, by writing and deleting a small probe. */
  async checkWritable(): Promise<void> {
    const key = `${CHECK_PREFIX}${randomUUID()}.json`;
    await this.put(key, Buffer.from(JSON.stringify({ checkedAt: new Date().toISOString() })), 'application/json');
    await this.request('DeleteObject', key, () => this.calls.deleteObject(key));
  }

  /** Ends retry waits and frees the sockets. Call it once the pipeline has drained. */
  async close(): Promise<void> {
    this.closing.abort();
    this.agent.destroy();
    this.probeAgent.destroy();
  }

  /**
   * One S3 call under the concurrency limit, with our retries. The slot is held through the
   * backoff waits too, so a store that is throttling never sees more than the limit.
   */
  private request<T>(operation: string, key: string | undefined, send: () => Promise<T>, limit = this.limit): Promise<T> {
    return limit(async () => {
      if (this.closing.signal.aborted) throw new Error(`CosOrderArchive is closed (${operation} refused)`);
      for (let attempt = 1; ; attempt++) {
        try {
          return await send();
        } catch (error) {
          const failure = classifyCosError(error, operation);
          const fail = (): CosArchiveError =>
            new CosArchiveError(failure, { operation, endpoint: this.endpoint, bucket: this.bucket, key, attempts: attempt }, this.secrets);
          if (!failure.retryable || attempt >= this.backoff.maxAttempts) throw fail();
          await sleep(backoffDelay(this.backoff, attempt - 1), this.closing.signal);
          if (this.closing.signal.aborted) throw fail();
        }
      }
    });
  }
}

const schemeOf = (endpoint: string): 'http:' | 'https:' => {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    // Not echoed: a mistyped endpoint may hold a credential.
    throw new Error(`COS endpoint is not a URL; expected e.g. https://s3.us-south.cloud-object-storage.appdomain.cloud`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`COS endpoint must be http or https, not ${url.protocol}`);
  return url.protocol;
};
