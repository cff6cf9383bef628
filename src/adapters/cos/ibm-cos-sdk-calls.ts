import type S3 from 'ibm-cos-sdk/clients/s3';
import { CosCredentials, ListPage, S3Calls, S3CallsOptions } from './s3-calls';

/**
 * The S3 requests through ibm-cos-sdk (an aws-sdk v2 fork): the client for IAM API keys, which it
 * trades for bearer tokens and refreshes; it signs HMAC keys too. Its own retries are off
 * (maxRetries 0): the archive's loop is the only one.
 */
export class IbmCosSdkCalls implements S3Calls {
  private readonly client: S3;
  private readonly bucket: string;

  constructor(options: S3CallsOptions & { readonly credentials: CosCredentials }) {
    const { credentials } = options;
    this.bucket = options.bucket;
    // Loaded here, not at import: a process on the signed-HTTP client never pays for the SDK (adr/0023).
    const S3Client = require('ibm-cos-sdk/clients/s3') as typeof S3;
    this.client = new S3Client({
      endpoint: options.endpoint,
      s3ForcePathStyle: options.forcePathStyle,
      region: options.region,
      maxRetries: 0,
      httpOptions: { agent: options.agent, timeout: options.requestTimeoutMs, connectTimeout: options.connectTimeoutMs },
      ...(credentials.kind === 'hmac'
        ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, signatureVersion: 'v4' }
        : {
            apiKeyId: credentials.apiKey,
            serviceInstanceId: credentials.serviceInstanceId,
            signatureVersion: 'iam',
            ...(credentials.authEndpoint === undefined ? {} : { ibmAuthEndpoint: credentials.authEndpoint }),
          }),
    });
  }

  async putObject(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.putObject({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }).promise();
  }

  async getObject(key: string): Promise<Buffer | undefined> {
    try {
      const { Body } = await this.client.getObject({ Bucket: this.bucket, Key: key }).promise();
      // The Node SDK buffers GetObject bodies whole; the union type covers browsers and streams.
      return Body as Buffer;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async listObjectsPage(prefix: string, continuationToken: string | undefined): Promise<ListPage> {
    const page = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: continuationToken }).promise();
    return {
      keys: (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key])),
      nextContinuationToken: page.IsTruncated === true ? page.NextContinuationToken : undefined,
    };
  }

  async headBucket(): Promise<void> {
    await this.client.headBucket({ Bucket: this.bucket }).promise();
  }

  async deleteObject(key: string): Promise<void> {
    await this.client.deleteObject({ Bucket: this.bucket, Key: key }).promise();
  }
}
