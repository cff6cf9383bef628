import { Rejection } from '../../../domain/rejection';
import { Result } from '../../../domain/result';
import { InboundMessage } from '../../ports/message-bus.port';
import { Emission, InputCodec, OutputEncoder, StageOutput } from '../stage';

/**
 * One declared output of a stage, and the only way its handler emits to it: the emission names
 * the output and carries an event of that output's type, so a handler cannot send a shipment to
 * the picklist topic.
 */
export interface TypedOutput<E> {
  readonly name: string;
  readonly spec: StageOutput<E>;
  emit(event: E): Emission;
}

export const typedOutput = <E>(name: string, topic: string, encoder: OutputEncoder<E>): TypedOutput<E> => ({
  name,
  spec: { topic, encoder },
  emit: (event) => ({ output: name, event }),
});

/** A stage's `outputs`, by the names its typed outputs emit under. */
export const outputsOf = (...outputs: readonly TypedOutput<any>[]): Record<string, StageOutput<any>> =>
  Object.fromEntries(outputs.map((output) => [output.name, output.spec]));

/** A codec whose decoded value is mapped (tagged with its input, for a stage with several), synchronously when the codec is. */
export const mapInput = <I, J>(codec: InputCodec<I>, map: (input: I) => J): InputCodec<J> => ({
  decode(message: InboundMessage) {
    const apply = (result: Result<Rejection, I>): Result<Rejection, J> => (result.ok ? { ok: true, value: map(result.value) } : result);
    const decoded = codec.decode(message);
    return decoded instanceof Promise ? decoded.then(apply) : apply(decoded);
  },
});
