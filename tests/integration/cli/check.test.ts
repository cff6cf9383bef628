import { runChecks, formatChecks } from '../../../src/main/commands/check';
import { stackConfig } from '../../support/integration-config';
import { readStackEnv } from '../../support/stack-env';
import { DEFAULT_LIFECYCLE_CONFIG } from '../../../src/main/lifecycle-config';

describe('orderflow check against the local stack', () => {
  it('passes when Kafka and the bucket are reachable, and reports the topics', async () => {
    const config = stackConfig();
    const results = await runChecks(config);
    expect(results.map((r) => [r.name, r.ok])).toEqual([
      ['Kafka', true],
      ['orders topic', true],
      ['dead-letter topic', true],
      ['archive', true],
    ]);
    expect(results[1]!.detail).toBe(`${config.ordersTopic} does not exist`);
    expect(formatChecks(results)).toContain('All checks passed.');
  });

  it('checks PostgreSQL too when DATABASE_URL is set', async () => {
    const config = stackConfig();
    const results = await runChecks({ ...config, lifecycle: { ...DEFAULT_LIFECYCLE_CONFIG, postgres: { url: readStackEnv().databaseUrl } } });
    expect(results.find((r) => r.name === 'postgresql')).toMatchObject({ ok: true, detail: expect.stringMatching(/answers$/) });
  });

  it('fails clearly on a wrong Kafka port', async () => {
    const base = stackConfig();
    const results = await runChecks({ ...base, kafka: { ...base.kafka!, brokers: ['127.0.0.1:1'] } });
    const kafka = results.find((r) => r.name === 'Kafka')!;
    expect(kafka.ok).toBe(false);
    expect(kafka.detail).toMatch(/no Kafka broker answered at 127\.0\.0\.1:1/);
    expect(kafka.hint).toMatch(/check the port in KAFKA_BROKERS/);
  });

  it('fails clearly on a missing bucket', async () => {
    const base = stackConfig();
    const results = await runChecks({ ...base, cos: { ...base.cos!, bucket: 'no-such-bucket-here' } });
    const archive = results.find((r) => r.name === 'archive')!;
    expect(archive.ok).toBe(false);
    expect(archive.detail).toMatch(/no bucket "no-such-bucket-here"/);
    expect(archive.hint).toMatch(/bucket does not exist/);
  });

  it('fails clearly on wrong storage keys without printing the secret', async () => {
    const base = stackConfig();
    const secret = 'wrong-secret-key-Zq81';
    const results = await runChecks({
      ...base,
      cos: { ...base.cos!, credentials: { kind: 'hmac', accessKeyId: readStackEnv().cosAccessKeyId, secretAccessKey: secret } },
    });
    const report = formatChecks(results);
    expect(results.find((r) => r.name === 'archive')!.ok).toBe(false);
    expect(report).toMatch(/rejected the credentials/);
    expect(report).not.toContain(secret);
  });

  it('connects over SASL_SSL with the CA file, and names a wrong password without printing it', async () => {
    const { sasl } = readStackEnv();
    if (sasl === undefined) throw new Error('The integration stack has no SASL_SSL listener (LOCAL_KAFKA_SASL_* unset)');
    const base = stackConfig();
    const saslKafka = {
      ...base.kafka!,
      brokers: sasl.brokers.split(','),
      ssl: true,
      caFile: sasl.caFile,
      sasl: { mechanism: 'plain' as const, username: sasl.username, password: sasl.password },
    };
    const good = await runChecks({ ...base, kafka: saslKafka });
    expect(good.find((r) => r.name === 'Kafka')).toMatchObject({ ok: true, detail: expect.stringContaining('TLS, SASL plain as "token"') });

    const wrong = 'not-the-api-key-7731';
    const bad = await runChecks({ ...base, kafka: { ...saslKafka, sasl: { ...saslKafka.sasl, password: wrong } } });
    const report = formatChecks(bad);
    expect(bad.find((r) => r.name === 'Kafka')).toMatchObject({ ok: false, detail: expect.stringMatching(/rejected the credentials/) });
    expect(report).not.toContain(wrong);
  });
});
