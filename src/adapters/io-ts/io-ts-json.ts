import { Left } from 'fp-ts/Either';
import * as t from 'io-ts';
import reporter from 'io-ts-reporters';
import { parseIsoInstant } from '../../domain/event-time';
import { isOrderId } from '../../domain/order';
import { rejection, Rejection, RejectionStage } from '../../domain/rejection';
import { err, ok, Result } from '../../domain/result';

// What every JSON codec at the edge shares (orders, lifecycle events): the same byte checks, the
// same readable and bounded io-ts messages, the same id and instant types.

interface OrderIdBrand {
  readonly OrderId: unique symbol;
}

/** The brand reuses the domain's own predicate, so the edge and the core cannot disagree. */
export const OrderIdCodec = t.brand(t.string, (s): s is t.Branded<string, OrderIdBrand> => isOrderId(s), 'OrderId');

/**
 * An ISO-8601 instant kept as its wire text, refined by parseIsoInstant: a type that is its JSON
 * value, so that `is` can check a parsed message without decoding it (see IoTsOrderCodec).
 * `instantOf` gives its epoch milliseconds.
 */
export const IsoInstantText = new t.Type<string, string, unknown>(
  'ISO8601',
  (u): u is string => typeof u === 'string' && instantOfText(u) !== undefined,
  (u, context) => (typeof u === 'string' && instantOfText(u) !== undefined ? t.success(u) : t.failure(u, context)),
  t.identity,
);

/**
 * The last text parsed, and its instant: the schema check and the mapping after it parse the same
 * text one after the other, and only the first pays for the regular expression and Date.parse.
 */
let lastInstant: { readonly text: string; readonly ms: number | undefined } = { text: '', ms: undefined };
const instantOfText = (text: string): number | undefined => {
  if (lastInstant.text !== text) lastInstant = { text, ms: parseIsoInstant(text) };
  return lastInstant.ms;
};

/** Epoch milliseconds of a text IsoInstantText accepted. */
export const instantOf = (text: string): number => {
  const ms = instantOfText(text);
  if (ms === undefined) throw new Error(`Not an ISO-8601 instant: ${clip(JSON.stringify(text))}`);
  return ms;
};

/** Longest quote of an offending value: a rejection reason is a log field and a DLQ header, not a copy of the payload. */
const MAX_LINE_CHARS = 300;

export const clip = (line: string): string => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line);

/**
 * io-ts-reporters' lines, e.g. `Expecting number at total but instead got: "abc"`, bounded. The
 * reporter quotes the offending value with JSON.stringify, which recurses: a value nested a few
 * thousand levels deep (a hostile payload parses fine, JSON.parse does not recurse) would throw
 * RangeError, and a decoder that throws turns a dead letter into an endless redelivery. Such a
 * value is located, not quoted.
 */
export const explain = (decoded: Left<t.Errors>): string[] => {
  try {
    // An intersection adds its member index to paths ("0.total"); readers want the field name.
    return reporter.report(decoded).map((line) => clip(line.replace(/ at \d+\./g, ' at ')));
  } catch {
    return decoded.left.map((error) => {
      const path = error.context.map((entry) => entry.key).filter((key) => key !== '' && !/^\d+$/.test(key)).join('.');
      const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value';
      return clip(`Expecting ${expected} at ${path} but instead got a value nested too deeply to show`);
    });
  }
};

// `fatal` makes malformed UTF-8 an error instead of silently turning it into U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Strict UTF-8, JSON, an object: the byte-level checks before any schema. Their codes
 * (`MESSAGE.*`) say the same thing whatever the topic, so operators filter every dead-letter
 * topic by the same ones.
 */
export const parseJsonObject = (bytes: Buffer, stage: RejectionStage): Result<Rejection, Record<string, unknown>> => {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return err(rejection('MESSAGE.INVALID_UTF8', stage, 'Message is not valid UTF-8'));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return err(rejection('MESSAGE.INVALID_JSON', stage, clip(`Message is not JSON: ${(error as Error).message}`)));
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    const kind = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
    return err(rejection('MESSAGE.NOT_AN_OBJECT', stage, `Expecting a JSON object but instead got ${kind}`));
  }
  return ok(json as Record<string, unknown>);
};
