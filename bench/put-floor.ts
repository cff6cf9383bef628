import * as http from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CosOrderArchive } from '../src/adapters/cos/cos-order-archive';
import { InboundMessage } from '../src/application/ports/message-bus.port';
import { PerOrderArchiveStage } from '../src/application/stages/per-order-archive.stage';
import { EMBEDDED_DEFAULTS } from '../src/main/config';
import { buildContainer } from '../src/main/container';
import { TOKENS } from '../src/main/di-tokens';
import { finish, jobOf, notifyParent, peakRssMb } from './child';
import { OrderFactory } from './load';
import { barePut, objectPath } from './bare-put';

/**
 * B3's limit: the least CPU a PUT of an archived order can cost a client on this machine. The
 * same records the per-order sink writes (same keys, same JSON bodies, computed before the clock
 * starts) are PUT to the same MinIO through the bare client (bench/bare-put.ts: Node's own http
 * over keep-alive sockets, a minimal SigV4 signer). Nothing else runs in the process.
 */
export interface PutFloorJob {
  /**
   * `node-http`: the floor itself. The others PUT the same records through a client, to tell its
   * share of B3's CPU from the rest of the service: `cos-archive-ibm` and `cos-archive-http`
   * through CosOrderArchive with COS_CLIENT ibm-cos-sdk or http (as the service configures it);
   * `aws-sdk-v3` through a bare @aws-sdk/client-s3 PutObjectCommand loop (no archive around it:
   * a client we did not adopt, measured as the lightest it can be configured, adr/0021).
   */
  readonly client: PutFloorClient;
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly prefix: string;
  readonly orders: number;
  /** PUTs in flight at once, as COS_MAX_CONCURRENCY. */
  readonly concurrency: number;
}

export type PutFloorClient = 'node-http' | 'cos-archive-ibm' | 'cos-archive-http' | 'aws-sdk-v3';

export interface PutFloorResult {
  readonly client: PutFloorJob['client'];
  readonly puts: number;
  readonly elapsedS: number;
  readonly putsPerS: number;
  /** CPU seconds this process used from the first PUT to the last response. */
  readonly cpuS: number;
  readonly cpuUsPerPut: number;
  readonly bodyBytes: number;
  readonly peakRssMb: number;
}

/** The records the per-order sink would write for the bench's orders: keys and bodies exactly as it makes them. */
const recordsOf = (job: PutFloorJob): Array<{ key: string; path: string; body: Buffer }> => {
  const stage = buildContainer({ ...EMBEDDED_DEFAULTS, archive: 'memory', archivePrefix: job.prefix, logLevel: 'silent' }).get(TOKENS.ArchiveStage) as PerOrderArchiveStage;
  const factory = new OrderFactory('put-floor');
  const now = Date.now();
  return Array.from({ length: job.orders }, (_, i) => {
    const { key, value } = factory.next(now);
    const message: InboundMessage = { topic: 'orders.v1', partition: 0, offset: String(i), key: Buffer.from(key as string), value, headers: [], timestamp: now };
    const decoded = stage.inputs[0]!.codec.decode(message);
    if (decoded instanceof Promise || !decoded.ok) throw new Error('The bench could not evaluate its own order');
    const path = objectPath(job.bucket, decoded.value.key);
    return { key: decoded.value.key, path, body: Buffer.from(JSON.stringify(decoded.value.record)) };
  });
};

const run = async (job: PutFloorJob): Promise<PutFloorResult> => {
  const records = recordsOf(job);
  const bare = barePut(job);
  const archive =
    job.client === 'cos-archive-ibm' || job.client === 'cos-archive-http'
      ? new CosOrderArchive({
          endpoint: job.endpoint,
          bucket: job.bucket,
          credentials: { kind: 'hmac', accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
          maxConcurrency: job.concurrency,
          region: job.region,
          client: job.client === 'cos-archive-ibm' ? 'ibm-cos-sdk' : 'http',
        })
      : undefined;
  // v3 as light as it goes: one attempt (no retry middleware at work), no CRC32 of every body
  // (its default since 2025), a keep-alive agent with as many sockets as the bare loop's.
  const v3 =
    job.client === 'aws-sdk-v3'
      ? new S3Client({
          endpoint: job.endpoint,
          region: job.region,
          forcePathStyle: true,
          credentials: { accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
          maxAttempts: 1,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: job.concurrency }) }),
        })
      : undefined;
  const put = (record: { key: string; path: string; body: Buffer }): Promise<void> => {
    if (archive !== undefined) return archive.put(record.key, record.body, 'application/json');
    if (v3 !== undefined) return v3.send(new PutObjectCommand({ Bucket: job.bucket, Key: record.key, Body: record.body, ContentType: 'application/json' })).then(() => undefined);
    return bare.put(record.path, record.body);
  };
  // One warm-up PUT opens a socket and lets the JIT see the path once; it is not counted.
  await put(records[0]!);
  notifyParent('first-delivery');
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < records.length) await put(records[next++]!);
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const cpu = process.cpuUsage(cpuAtStart);
  const elapsedS = (performance.now() - started) / 1000;
  notifyParent('done');
  bare.close();
  await archive?.close();
  v3?.destroy();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return {
    client: job.client,
    puts: records.length,
    elapsedS,
    putsPerS: records.length / elapsedS,
    cpuS,
    cpuUsPerPut: (cpuS * 1e6) / records.length,
    bodyBytes: Math.round(records.reduce((sum, r) => sum + r.body.length, 0) / records.length),
    peakRssMb: peakRssMb(),
  };
};

run(jobOf<PutFloorJob>()).then(finish, (error: unknown) => {
  process.stderr.write(`bench put floor: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
