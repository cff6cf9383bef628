import { mapInput, outputsOf, typedOutput } from '../../../../../src/application/stages/lifecycle/stage-parts';
import { InputCodec } from '../../../../../src/application/stages/stage';
import { rejection } from '../../../../../src/domain/rejection';
import { anInboundMessage } from '../../../../support/builders';

describe('stage parts', () => {
  const syncCodec: InputCodec<string> = { decode: (message) => ({ ok: true, value: message.topic }) };
  const asyncCodec: InputCodec<string> = { decode: async (message) => ({ ok: true, value: message.topic }) };
  const refusing: InputCodec<string> = { decode: async () => ({ ok: false, error: rejection('EVENT.SCHEMA_VIOLATION', 'decode', 'no') }) };

  it('map a decoded input, synchronously when the codec is, and through a promise when it is not (a schema registry)', async () => {
    const tag = (topic: string) => ({ kind: 'tagged', topic });
    expect(mapInput(syncCodec, tag).decode(anInboundMessage({ topic: 't' }))).toEqual({ ok: true, value: { kind: 'tagged', topic: 't' } });
    const pending = mapInput(asyncCodec, tag).decode(anInboundMessage({ topic: 't' }));
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual({ ok: true, value: { kind: 'tagged', topic: 't' } });
    expect(await mapInput(refusing, tag).decode(anInboundMessage())).toMatchObject({ ok: false, error: { code: 'EVENT.SCHEMA_VIOLATION' } });
  });

  it('declare outputs under the names their emissions carry', () => {
    const encoder = { encode: (event: string) => ({ key: null, value: Buffer.from(event) }) };
    const shipped = typedOutput('shipped', 'shipments.created', encoder);
    expect(outputsOf(shipped)).toEqual({ shipped: { topic: 'shipments.created', encoder } });
    expect(shipped.emit('x')).toEqual({ output: 'shipped', event: 'x' });
  });
});
