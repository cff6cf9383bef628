import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readStockFile, StockFileError } from '../../../src/adapters/fs/json-stock-file';

const fileWith = (text: string): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'stock-')), 'stock.json');
  writeFileSync(file, text);
  return file;
};

const problemsOf = async (file: string): Promise<readonly string[]> => {
  const error = await readStockFile(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StockFileError);
  return (error as StockFileError).problems;
};

describe('readStockFile', () => {
  it('reads SKU → whole quantity, zero included', async () => {
    const stock = await readStockFile(fileWith('{"sku-1": 10, "sku-2": 0}'));
    expect([...stock]).toEqual([
      ['sku-1', 10],
      ['sku-2', 0],
    ]);
  });

  it('reports every bad entry by its SKU, not only the first', async () => {
    const problems = await problemsOf(fileWith('{"ok": 1, "neg": -1, "frac": 2.5, "text": "7", "none": null}'));
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(expect.arrayContaining([
      'SKU neg: expected a whole number from 0 to 2147483647, got -1',
      'SKU frac: expected a whole number from 0 to 2147483647, got 2.5',
      'SKU text: expected a whole number from 0 to 2147483647, got "7"',
      'SKU none: expected a whole number from 0 to 2147483647, got null',
    ]));
  });

  it('says what is wrong with a file that is not a JSON object, or not there', async () => {
    expect(await problemsOf(fileWith('[1, 2]'))).toEqual(['expected a JSON object of SKU to quantity, got an array']);
    expect((await problemsOf(fileWith('{"a": 1,')))[0]).toMatch(/^is not JSON: /);
    expect((await problemsOf('/nonexistent/stock.json'))[0]).toMatch(/^cannot be read: ENOENT/);
  });

  it('names the file in the error message', async () => {
    const file = fileWith('{"a": -5}');
    await expect(readStockFile(file)).rejects.toThrow(`Stock file ${file} is invalid (1 problem):\n  - SKU a: expected`);
  });
});
