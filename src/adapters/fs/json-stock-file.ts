import { readFile } from 'node:fs/promises';
import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import reporter from 'io-ts-reporters';

/** A stock file that cannot be used, with every problem in it (not only the first). */
export class StockFileError extends Error {
  override readonly name = 'StockFileError';

  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`Stock file ${file} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
  }
}

// The same bound as the `stock.available` column (integer).
const MAX_QUANTITY = 2_147_483_647;

interface WholeNumberBrand {
  readonly WholeNumber: unique symbol;
}
const WholeNumber = t.brand(
  t.number,
  (n): n is t.Branded<number, WholeNumberBrand> => Number.isSafeInteger(n) && n >= 0 && n <= MAX_QUANTITY,
  'WholeNumber',
);

/** `{"<sku>": <whole number >= 0>, …}`: the stock the inventory starts SKUs it does not know with. */
export const StockFileCodec = t.record(t.string, WholeNumber);

/**
 * Reads and validates `ORDERFLOW_STOCK_FILE` at the edge: a JSON object from SKU to a whole
 * quantity >= 0. Every bad entry is reported, named by its SKU, and nothing of a bad file is used.
 */
export const readStockFile = async (file: string): Promise<Map<string, number>> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StockFileError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StockFileError(file, [`is not JSON: ${(error as Error).message}`]);
  }
  return decodeStock(file, json);
};

export const decodeStock = (file: string, json: unknown): Map<string, number> => {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new StockFileError(file, [`expected a JSON object of SKU to quantity, got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}`]);
  }
  const problems = Object.keys(json).filter((sku) => sku.trim() === '').map(() => 'a SKU is empty');
  const decoded = StockFileCodec.decode(json);
  if (isLeft(decoded)) {
    problems.push(
      ...reporter
        .report(decoded)
        .map((line) => line.replace(/^Expecting WholeNumber at (.*) but instead got: (.*)$/s, 'SKU $1: expected a whole number from 0 to 2147483647, got $2')),
    );
  }
  if (problems.length > 0 || isLeft(decoded)) throw new StockFileError(file, problems);
  return new Map(Object.entries(decoded.right));
};
