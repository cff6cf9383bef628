import { createHash, createHmac } from 'node:crypto';

/** AWS Signature Version 4 for one S3 request with a hashed payload: what a minimal client has to compute per PUT. */
export class SigV4Signer {
  private signingKey: { readonly date: string; readonly key: Buffer } | undefined;

  constructor(
    private readonly accessKeyId: string,
    private readonly secretAccessKey: string,
    private readonly region: string,
  ) {}

  /** The headers to send; `path` must already be URI-encoded as S3 expects (each segment, `/` kept). */
  sign(method: string, host: string, path: string, body: Buffer, now: Date, extra: Readonly<Record<string, string>>): Record<string, string> {
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const headers: Record<string, string> = { ...extra, host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
    const names = Object.keys(headers)
      .map((name) => name.toLowerCase())
      .sort();
    const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value.trim()]));
    const signedHeaders = names.join(';');
    const canonical = [method, path, '', ...names.map((name) => `${name}:${lower[name]}`), '', signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${this.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', this.keyFor(date)).update(toSign).digest('hex');
    return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
  }

  /** The derived key changes once a day; every client caches it. */
  private keyFor(date: string): Buffer {
    if (this.signingKey?.date !== date) {
      const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
      const key = hmac(hmac(hmac(hmac(`AWS4${this.secretAccessKey}`, date), this.region), 's3'), 'aws4_request');
      this.signingKey = { date, key };
    }
    return this.signingKey.key;
  }
}
