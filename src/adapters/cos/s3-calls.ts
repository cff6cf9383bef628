import type * as http from 'node:http';

export type CosCredentials =
  /** HMAC keys: MinIO, or COS service credentials created with `{"HMAC": true}`. */
  | { readonly kind: 'hmac'; readonly accessKeyId: string; readonly secretAccessKey: string }
  /** An IBM Cloud API key; the SDK trades it for IAM bearer tokens and refreshes them. */
  | { readonly kind: 'iam'; readonly apiKey: string; readonly serviceInstanceId: string; readonly authEndpoint?: string };

/**
 * Which client makes the S3 requests (adr/0021). `http`: SigV4 signing (aws4) on Node's own http,
 * at about the bench's floor of CPU per PUT, for HMAC keys only; `ibm-cos-sdk`: IBM's aws-sdk v2
 * fork, about twice that, and the one that trades IAM API keys for tokens.
 */
export type CosClient = 'http' | 'ibm-cos-sdk';

export const COS_CLIENTS: readonly CosClient[] = ['http', 'ibm-cos-sdk'];

/** The lighter client where it can sign; IAM API keys need the SDK. */
export const defaultCosClient = (credentials: CosCredentials): CosClient => (credentials.kind === 'hmac' ? 'http' : 'ibm-cos-sdk');

/** One page of ListObjectsV2: its keys, and where the next page starts (absent on the last). */
export interface ListPage {
  readonly keys: readonly string[];
  readonly nextContinuationToken: string | undefined;
}

/**
 * The five S3 requests CosOrderArchive makes, one attempt each, for one bucket. The archive owns
 * everything around them (the concurrency limit, retries, probes, closing, the error it reports),
 * so each client does exactly this and no more: no retries of its own.
 *
 * A failure is thrown as an error with the S3 code (NoSuchBucket, SlowDown…), or the socket's
 * (ECONNREFUSED…), or TimeoutError, in `code`, the HTTP status in `statusCode` and the server's
 * words in `message`: the shape `classifyCosError` reads, so both clients' failures go through the
 * same table. Nothing else may be put in it: never a request or its headers.
 */
export interface S3Calls {
  putObject(key: string, body: Buffer, contentType: string): Promise<void>;
  /** undefined when the bucket has no such key: absence is an answer, not a failure. */
  getObject(key: string): Promise<Buffer | undefined>;
  listObjectsPage(prefix: string, continuationToken: string | undefined): Promise<ListPage>;
  /** Resolves when the bucket exists and the credentials are accepted; the error of a HEAD has no body. */
  headBucket(): Promise<void>;
  deleteObject(key: string): Promise<void>;
}

/** What either client needs; the archive builds the agent and destroys it on close. */
export interface S3CallsOptions {
  readonly endpoint: string;
  readonly bucket: string;
  readonly forcePathStyle: boolean;
  readonly region: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly agent: http.Agent;
}
