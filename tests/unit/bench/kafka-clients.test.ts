import type { BusFloorLoop } from '../../../bench/bus-floor';
import { kafkaClientsOf, kafkaClientsSection, type ConsumeRound, type ProduceRun } from '../../../bench/kafka-clients';
import type { ProduceFloorClient } from '../../../bench/produce-floor';

const cpu = (service: number, other = 0.1) => ({ service, minio: 0, kafka: 0, harness: 0, other });
/** A bare loop's round at this rate, keeping `cores` of the process busy. */
const consumed = (loop: BusFloorLoop, ordersPerS: number, cores: number, round = 1): ConsumeRound => ({
  loop,
  consumed: 600_000,
  complete: true,
  elapsedS: 600_000 / ordersPerS,
  ordersPerS,
  cpuS: 1,
  peakRssMb: 90,
  cpu: cpu(cores),
  round,
});
const produced = (client: ProduceFloorClient, messagesPerS: number, cores: number): ProduceRun => ({
  client,
  sent: 200_000,
  elapsedS: 200_000 / messagesPerS,
  messagesPerS,
  cpuS: 1,
  cpuUsPerMessage: 0,
  peakRssMb: 150,
  cpu: cpu(cores),
  publishing: {},
});
const install = { version: '1.10.1', dir: '/cache', modulePath: '/cache/m', builtAt: '2026-12-02T07:15:46.384Z', installS: 166, librdkafkaVersion: '2.15.1', installedNow: true };

describe('bench Kafka clients: kafkajs beside confluent-kafka-javascript', () => {
  it('takes each loop at its least disturbed round and compares the cheaper ckjs eachBatch shape with kafkajs', () => {
    const k = kafkaClientsOf({
      install,
      consume: [
        // 4 µs, then 2.5 µs per message: the second round is kafkajs's figure.
        consumed('kafkajs', 200_000, 0.8, 1),
        consumed('ckjs-batch-unbounded', 50_000, 0.5, 1),
        consumed('ckjs-batch', 40_000, 0.6, 1),
        consumed('ckjs-message', 30_000, 0.6, 1),
        consumed('kafkajs', 300_000, 0.75, 2),
      ],
      produce: [produced('kafkajs', 40_000, 0.8), produced('port', 40_000, 0.9), produced('ckjs', 50_000, 0.5)],
    });
    expect(k).toMatchObject({
      measured: true,
      install: { version: '1.10.1', librdkafka: '2.15.1', installed_in_this_run: true, install_s: 166 },
      kafkajs: { consume_each_batch: { messages_per_s: 300_000, cpu_us_per_message: 2.5 }, produce: { cpu_us_per_message: 20 } },
      'confluent-kafka-javascript': { consume_each_batch: { loop: 'ckjs-batch-unbounded', cpu_us_per_message: 10 }, produce: { cpu_us_per_message: 10 } },
      ratio: { consume_cpu_per_message: 0.25, consume_rate: 0.17, produce_cpu_per_message: 2, produce_rate: 1.25 },
      wide_margin: { cpu_ratio_at_least: 2, met: false },
    });
    const section = kafkaClientsSection({ install, consume: [consumed('kafkajs', 300_000, 0.75), consumed('ckjs-batch-unbounded', 50_000, 0.5)], produce: [] }).join('\n');
    expect(section).toContain('built from source with `CKJS_LINKING=dynamic` by bench/ckjs-install.ts in this run, in 166 s');
    expect(section).toContain("spends 4.00× kafkajs's CPU per message (10.00 against 2.50 µs)");
    expect(section).toContain('is not met in this run');
  });

  it('meets the wide margin only at 2× less CPU per message consumed', () => {
    const k = kafkaClientsOf({ install, consume: [consumed('kafkajs', 100_000, 0.6), consumed('ckjs-batch', 200_000, 0.6)], produce: [] });
    expect(k).toMatchObject({ ratio: { consume_cpu_per_message: 2 }, wide_margin: { met: true } });
  });

  it('says why it was not measured', () => {
    const reason = 'not installed (run `npm run bench -- --only ckjs` once)';
    expect(kafkaClientsOf({ notMeasured: reason, consume: [], produce: [] })).toEqual({ measured: false, reason });
    expect(kafkaClientsSection({ notMeasured: reason, consume: [], produce: [] })).toContain(`Not measured in this run: ${reason}.`);
    expect(kafkaClientsOf(undefined)).toBeUndefined();
  });
});
