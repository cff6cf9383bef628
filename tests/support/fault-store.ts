import S3 from 'ibm-cos-sdk/clients/s3';
import { FaultStackEnv } from './fault-stack';

export interface StoredKey {
  /** Every write of the key is a version: versions − 1 rewrites. */
  readonly versions: number;
  /** When the first version was written (epoch ms, MinIO's clock, which is this machine's). */
  readonly firstWrittenAt: number;
}

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  /** Epoch ms (MinIO's clock, which is this machine's). */
  readonly writtenAt: number;
}

/**
 * The test's own view of the object store, independent of the service. The fault bucket is
 * versioned (MinIO supports versioning on a single drive), so every PUT of a key leaves a
 * version: the store itself counts the duplicates a crash causes, which the service cannot.
 */
export class StoreProbe {
  private readonly s3: S3;

  constructor(private readonly stack: FaultStackEnv) {
    this.s3 = new S3({
      endpoint: stack.cosEndpoint,
      s3ForcePathStyle: true,
      region: 'us-east-1',
      accessKeyId: stack.accessKeyId,
      secretAccessKey: stack.secretAccessKey,
      signatureVersion: 'v4',
      maxRetries: 3,
    });
  }

  async enableVersioning(): Promise<void> {
    await this.s3.putBucketVersioning({ Bucket: this.stack.bucket, VersioningConfiguration: { Status: 'Enabled' } }).promise();
    const { Status } = await this.s3.getBucketVersioning({ Bucket: this.stack.bucket }).promise();
    if (Status !== 'Enabled') throw new Error(`Versioning of bucket ${this.stack.bucket} is ${Status ?? 'off'}; duplicates could not be counted`);
  }

  /** Every key under the prefix ('' for the whole bucket), with its versions. */
  async keys(prefix: string): Promise<Map<string, StoredKey>> {
    const keys = new Map<string, StoredKey>();
    for (const version of await this.versions(prefix)) {
      const known = keys.get(version.key);
      keys.set(version.key, {
        versions: (known?.versions ?? 0) + 1,
        firstWrittenAt: Math.min(known?.firstWrittenAt ?? version.writtenAt, version.writtenAt),
      });
    }
    return keys;
  }

  /** Every version of every key under the prefix: each PUT of a key left one. */
  async versions(prefix: string): Promise<ObjectVersion[]> {
    const versions: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await this.s3
        .listObjectVersions({ Bucket: this.stack.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker })
        .promise();
      for (const version of page.Versions ?? []) {
        versions.push({ key: version.Key!, versionId: version.VersionId!, writtenAt: version.LastModified!.getTime() });
      }
      keyMarker = page.IsTruncated === true ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated === true ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return versions;
  }

  /** The object's bytes: its latest version, or the one named. */
  async get(key: string, versionId?: string): Promise<Buffer> {
    const { Body } = await this.s3.getObject({ Bucket: this.stack.bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) }).promise();
    return Body as Buffer;
  }
}
