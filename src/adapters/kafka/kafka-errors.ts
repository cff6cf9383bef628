import { inspect } from 'node:util';
import { redactSecrets } from './kafka-connection';

export type KafkaFailureReason = 'authentication' | 'authorization' | 'tls' | 'dns' | 'unreachable' | 'timeout' | 'fenced' | 'other';

/**
 * A Kafka failure explained for an operator: what was attempted, which cause, which broker, what
 * to check. Neither the message nor the `cause` (the kafkajs error, or its redacted text should a
 * secret show in it) holds a credential.
 */
export class KafkaAdapterError extends Error {
  override readonly name = 'KafkaAdapterError';

  constructor(
    readonly reason: KafkaFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ErrorContext {
  /** Bootstrap servers, named when the failing broker is unknown. */
  readonly brokers?: readonly string[];
  readonly sasl?: { readonly mechanism: string; readonly username: string };
  readonly secrets?: readonly string[];
}

const AUTHORIZATION_FAILURES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
/**
 * A newer producer holds the transactional id (or the broker expired the transaction). kafkajs
 * speaks old request versions, to which the broker answers INVALID_PRODUCER_EPOCH rather than
 * PRODUCER_FENCED (a code kafkajs does not know).
 */
const FENCING_FAILURES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTION_COORDINATOR_FENCED']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Explains an error thrown while `action` (e.g. "connecting the producer") in one sentence or two. */
export const explainKafkaError = (error: unknown, action: string, context: ErrorContext = {}): KafkaAdapterError => {
  if (error instanceof KafkaAdapterError) return error;
  const chain = causesOf(error);
  const secrets = context.secrets ?? [];
  // Already explained further down (e.g. a delivery timeout caused by a failed connect): keep that
  // explanation, whose own words ("ssl/sasl…") must not be classified again.
  const explained = chain.find((e): e is KafkaAdapterError => e instanceof KafkaAdapterError);
  if (explained !== undefined) {
    const message = `Kafka: ${action} failed: ${error instanceof Error ? `${error.message}: ` : ''}${explained.message.replace(/^Kafka: /, '')}`;
    return new KafkaAdapterError(explained.reason, redactSecrets(message, secrets) as string, { cause: withoutSecrets(error, secrets) });
  }
  const root = chain[chain.length - 1];
  const detail = redactSecrets(root instanceof Error ? root.message : String(root), secrets) as string;
  const broker = chain.map((e) => (e as { broker?: unknown }).broker).find((b): b is string => typeof b === 'string');
  const where = broker ?? context.brokers?.join(',') ?? 'the bootstrap servers';
  const [reason, explanation] = classify(chain, where, context);
  const message = redactSecrets(`Kafka: ${action} failed: ${explanation} (${detail})`, secrets) as string;
  return new KafkaAdapterError(reason, message, { cause: withoutSecrets(error, secrets) });
};

/** The original error as the cause, unless a secret shows anywhere in it: then only its redacted text. */
const withoutSecrets = (error: unknown, secrets: readonly string[]): unknown => {
  const text = inspect(error, { depth: 8 });
  return secrets.some((secret) => text.includes(secret)) ? new Error(redactSecrets(text, secrets) as string) : error;
};

const classify = (chain: readonly unknown[], where: string, context: ErrorContext): [KafkaFailureReason, string] => {
  const has = (test: (e: Record<string, unknown>) => boolean): boolean =>
    chain.some((e) => typeof e === 'object' && e !== null && test(e as Record<string, unknown>));
  const codeIn = (codes: Set<string>) => (e: Record<string, unknown>) => typeof e.code === 'string' && codes.has(e.code);
  const messageMatches = (pattern: RegExp) => (e: Record<string, unknown>) => typeof e.message === 'string' && pattern.test(e.message);

  if (has((e) => e.name === 'KafkaJSSASLAuthenticationError')) {
    const who = context.sasl ? ` (SASL ${context.sasl.mechanism.toUpperCase()}, user "${context.sasl.username}")` : '';
    return ['authentication', `the broker at ${where} rejected the credentials${who}; check the username and the password or API key`];
  }
  if (has((e) => typeof e.type === 'string' && AUTHORIZATION_FAILURES.has(e.type))) {
    const denied = [...new Set(chain.map((e) => (e as { type?: unknown }).type).filter((t) => AUTHORIZATION_FAILURES.has(t as string)))];
    return ['authorization', `not authorized (${denied.join(', ')}); grant the principal the needed ACLs or create the topics beforehand`];
  }
  if (has((e) => typeof e.type === 'string' && FENCING_FAILURES.has(e.type))) {
    return [
      'fenced',
      'this producer was fenced: a newer producer took over its transactional id (a new owner of the input partition, or this member after a session loss), or the broker timed its transaction out; the transaction is aborted',
    ];
  }
  if (has(codeIn(TLS_CODES)) || has(messageMatches(/certificate|self[- ]signed|TLS|SSL/i))) {
    return ['tls', `the TLS handshake with ${where} failed; check the CA certificate (ssl.ca), the host name and that the listener speaks TLS`];
  }
  if (has(codeIn(DNS_CODES))) return ['dns', `the broker host in ${where} could not be resolved; check the bootstrap servers`];
  if (has(codeIn(UNREACHABLE_CODES)) || has(messageMatches(/Connection (closed|error)|Closed connection/i))) {
    return [
      'unreachable',
      `no Kafka broker answered at ${where}; check the address and port, and that ssl/sasl match the listener's security protocol`,
    ];
  }
  if (has((e) => e.name === 'KafkaJSRequestTimeoutError') || has(messageMatches(/timeout/i))) {
    return ['timeout', `${where} did not answer in time; check the network path and the broker's health`];
  }
  return ['other', `unexpected error from ${where}`];
};

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Whether the broker refused a produce because a record (batch) exceeds the topic's max.message.bytes: final, never retriable as it is. */
export const isRecordTooLarge = (error: unknown): boolean =>
  causesOf(error).some((e) => typeof e === 'object' && e !== null && TOO_LARGE.has(String((e as { type?: unknown }).type)));

/** The error, its causes and, for aggregates, the errors they hold. kafkajs nests causes in retries. */
const causesOf = (error: unknown): unknown[] => {
  const chain: unknown[] = [];
  const visit = (e: unknown): void => {
    if (e === undefined || chain.includes(e) || chain.length > 16) return;
    chain.push(e);
    if (typeof e !== 'object' || e === null) return;
    const { cause, originalError, errors } = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    visit(cause);
    visit(originalError);
    if (Array.isArray(errors)) errors.forEach(visit);
  };
  visit(error);
  return chain;
};

/** The broker error types anywhere in the error's cause chain (kafkajs nests them in retries). */
const typesOf = (error: unknown): string[] =>
  causesOf(error).flatMap((e) => {
    const type = (e as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? [type] : [];
  });

/** The group is preparing a rebalance: the old generation may still commit before it rejoins (kafkajs's own isRebalancing, minus ILLEGAL_GENERATION). */
export const isRebalanceInProgress = (error: unknown): boolean =>
  typesOf(error).some((type) => type === 'REBALANCE_IN_PROGRESS' || type === 'NOT_COORDINATOR_FOR_GROUP');

/**
 * The member's generation is over already — its session expired, it was fenced, or the group
 * moved on without it — so its partitions may belong to another member by now: as a rebalance,
 * except that nothing it commits will be accepted any more.
 */
export const isGenerationLost = (error: unknown): boolean =>
  typesOf(error).some((type) => type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION' || type === 'FENCED_INSTANCE_ID');

/** Whether the failure was a newer producer (or the broker) fencing a transactional one: that producer can never be used again. */
export const isFenced = (error: unknown): boolean => typesOf(error).some((type) => FENCING_FAILURES.has(type));
