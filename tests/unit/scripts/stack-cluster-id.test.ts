import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const STACK = path.join(__dirname, '../../../scripts/stack/stack.sh');

/**
 * The local stack's Kafka cluster id goes to the storage tool as `-t <id>`: one that starts with
 * "-" is read as an option and the broker never starts. The generator's only freedom is the
 * first byte, so every one of the 256 is tried, plus 20 random ids (each call forks a few
 * processes: the 256 are the proof, the random ones check that the bytes do vary).
 */
describe('the local stack cluster id', () => {
  it('never starts with "-" whatever the first random byte, and is a 16-byte base64url UUID', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orderflow-cluster-id-'));
    const script = `
      source "${STACK}"
      for b in $(seq 0 255); do
        printf "$(printf '\\\\x%02x' "$b")0123456789abcde" > "${dir}/bytes"
        kafka_cluster_id "${dir}/bytes"; echo
      done
      for i in $(seq 1 20); do kafka_cluster_id; echo; done
    `;
    const ids = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(ids).toHaveLength(276);
    expect(ids.filter((id) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toEqual([]);
    expect(ids.filter((id) => Buffer.from(id, 'base64url').length !== 16)).toEqual([]);
    // The first byte is the only one changed: the other 15 keep their entropy.
    expect(Buffer.from(ids[0xf8]!, 'base64url').subarray(1).toString()).toBe('0123456789abcde');
    expect(new Set(ids.slice(256)).size).toBe(20);
  });
});
