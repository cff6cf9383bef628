import { CosArchiveError, displayEndpoint } from '../../adapters/cos/cos-errors';
import { KafkaAdapterError, KafkaFailureReason } from '../../adapters/kafka/kafka-errors';
import { hasLifecycle, LifecyclePort } from '../../application/ports/lifecycle.port';
import { describeDatabaseUrl } from '../../adapters/postgres/postgres-connection';
import { AppConfig } from '../config';
import { buildContainer } from '../container';
import { TOKENS } from '../di-tokens';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly hint?: string;
}

const KAFKA_HINTS: Readonly<Record<KafkaFailureReason, string>> = {
  authentication:
    'Wrong password or user? For Event Streams the user is the literal "token" and the password an API key (KAFKA_SASL_PASSWORD).',
  authorization: 'The credentials work but lack permission: give the API key the Writer or Manager role, or create the topics beforehand.',
  tls: 'TLS failed: for a private or self-signed CA set KAFKA_SSL_CA_FILE; for a plaintext listener set KAFKA_SSL=false.',
  dns: 'Unknown host: check the host names in KAFKA_BROKERS.',
  unreachable: 'Nothing answered: check the port in KAFKA_BROKERS, and that KAFKA_SSL and SASL match the listener.',
  timeout: 'No answer in time: a wrong port, TLS spoken to a plaintext port (or the reverse), or a firewall.',
  fenced: 'Another process took over the transactional id: two instances consume the same partitions in the same group, or one was frozen past its session.',
  other: 'See the message above; LOG_LEVEL=debug shows the client log.',
};

const COS_HINTS: Readonly<Partial<Record<CosArchiveError['kind'], string>>> = {
  credentials: 'Wrong keys: check COS_ACCESS_KEY_ID/COS_SECRET_ACCESS_KEY, or COS_API_KEY/COS_INSTANCE_CRN.',
  'access-denied': 'The bucket refused these credentials: give them the Writer role on the bucket, or check they belong to its account.',
  'no-such-bucket': 'The bucket does not exist at this endpoint: create it, or fix COS_BUCKET or the region of COS_ENDPOINT.',
  connection: 'Nothing answered: check the host and port in COS_ENDPOINT.',
  timeout: 'No answer in time: check COS_ENDPOINT and the network path.',
};

/**
 * `orderflow check`: proves the configuration works before the service is started with it.
 * Each check runs even when an earlier one failed, so one run shows every problem. The archive is
 * started and verified through its lifecycle (a write and a delete where the store offers that
 * proof, readiness otherwise); every client is closed at the end, whatever happened.
 */
export const runChecks = async (config: AppConfig): Promise<CheckResult[]> => {
  const container = buildContainer({ ...config, logLevel: 'silent' });
  const resources = container.get(TOKENS.Resources);
  try {
    const results: CheckResult[] = [];
    if (config.bus === 'kafka') results.push(...(await checkKafka(container.get(TOKENS.TopicAdmin), config)));
    results.push(await checkArchive(container.get(TOKENS.Archive), config));
    const postgres = container.get(TOKENS.Postgres);
    if (postgres !== undefined) results.push(await checkPostgres(postgres, config.lifecycle!.postgres!.url));
    return results;
  } finally {
    await resources.close();
  }
};

/** DATABASE_URL, when set: the lifecycle's stock, payments and spend window live there. */
const checkPostgres = async (postgres: LifecyclePort, url: string): Promise<CheckResult> => {
  const target = describeDatabaseUrl(url);
  try {
    await postgres.ready();
    return { name: 'postgresql', ok: true, detail: `${target} answers` };
  } catch (error) {
    return {
      name: 'postgresql',
      ok: false,
      detail: `${target}: ${error instanceof Error ? error.message : String(error)}`,
      hint: 'Check DATABASE_URL (host, port, database, user and password) and that the server accepts connections from here',
    };
  }
};

const checkKafka = async (admin: { listTopics(): Promise<string[]> }, config: AppConfig): Promise<CheckResult[]> => {
  const kafka = config.kafka!;
  const target = `${kafka.brokers.join(',')} (${kafka.ssl ? 'TLS' : 'plaintext'}${kafka.sasl ? `, SASL ${kafka.sasl.mechanism} as "${kafka.sasl.username}"` : ''})`;
  try {
    const topics = new Set(await admin.listTopics());
    const topicCheck = (topic: string, role: string): CheckResult => {
      const exists = topics.has(topic);
      return {
        name: `${role} topic`,
        ok: exists || kafka.createTopics,
        detail: exists ? `${topic} exists` : `${topic} does not exist`,
        ...(exists
          ? {}
          : {
              hint: kafka.createTopics
                ? `orderflow consume will create it with ${kafka.topicPartitions} partitions, if the credentials allow.`
                : 'KAFKA_CREATE_TOPICS=false: create it before starting orderflow consume.',
            }),
      };
    };
    return [
      { name: 'Kafka', ok: true, detail: `connected to ${target}, ${topics.size} topics visible` },
      topicCheck(config.ordersTopic, 'orders'),
      topicCheck(config.dlqTopic, 'dead-letter'),
    ];
  } catch (error) {
    const reason = error instanceof KafkaAdapterError ? error.reason : 'other';
    return [{ name: 'Kafka', ok: false, detail: messageOf(error), hint: KAFKA_HINTS[reason] }];
  }
};

const checkArchive = async (archive: unknown, config: AppConfig): Promise<CheckResult> => {
  // Only a test's stand-in has no lifecycle: every archive the composition root builds has one.
  if (!hasLifecycle(archive)) return { name: 'archive', ok: true, detail: `${config.archive} archive (nothing to check)` };
  try {
    await archive.start();
    await verified(archive);
    return { name: 'archive', ok: true, detail: archiveDetail(config) };
  } catch (error) {
    const hint = error instanceof CosArchiveError ? COS_HINTS[error.kind] : undefined;
    return { name: 'archive', ok: false, detail: messageOf(error), ...(hint === undefined ? {} : { hint }) };
  }
};

/**
 * A write answers with a precise code (SignatureDoesNotMatch, NoSuchBucket, AccessDenied); a HEAD
 * only has a bodiless status, so it cannot tell wrong keys from missing permissions: where the
 * adapter can prove more than readiness, check asks for that proof.
 */
const verified = (resource: LifecyclePort): Promise<void> => (resource.verify === undefined ? resource.ready() : resource.verify());

/** What was proven, in the configuration's words (which archive was chosen is the config's to say). */
const archiveDetail = (config: AppConfig): string => {
  switch (config.archive) {
    case 'cos':
      return `bucket "${config.cos!.bucket}" at ${displayEndpoint(config.cos!.endpoint)} is reachable and writable (COS_CLIENT ${config.cos!.client})`;
    case 'fs':
      return `directory ${config.dataDir} is writable`;
    case 'memory':
      return 'memory archive (in memory, nothing to check)';
  }
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const formatChecks = (results: readonly CheckResult[]): string =>
  [
    'orderflow check',
    ...results.flatMap((r) => [`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(18)} ${r.detail}`, ...(r.hint ? [`        ${''.padEnd(18)} hint: ${r.hint}`] : [])]),
    results.every((r) => r.ok) ? '\nAll checks passed.' : `\n${results.filter((r) => !r.ok).length} check(s) failed.`,
    '',
  ].join('\n');
