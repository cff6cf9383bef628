import { classifyCosError } from '../../../src/adapters/cos/cos-errors';
import { parseListPage, s3ErrorOf } from '../../../src/adapters/cos/signed-http-calls';

/** What S3 servers answer, as text: the signed-HTTP client reads it with no SDK in between. */
const errorXml = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Key>orders/o-1.json</Key><RequestId>17A</RequestId></Error>`;

const listXml = (contents: readonly string[], tail = '<IsTruncated>false</IsTruncated>'): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>orderflow</Name><Prefix>orders/</Prefix>' +
  `<KeyCount>${contents.length}</KeyCount><MaxKeys>1000</MaxKeys>${tail}` +
  contents.map((key) => `<Contents><Key>${key}</Key><LastModified>2026-11-22T10:00:00.000Z</LastModified><Size>2</Size></Contents>`).join('') +
  '</ListBucketResult>';

describe('s3ErrorOf', () => {
  it('reads the code, status and message of an S3 error body', () => {
    expect(s3ErrorOf(403, errorXml('SignatureDoesNotMatch', 'The request signature we calculated does not match'))).toMatchObject({
      code: 'SignatureDoesNotMatch',
      statusCode: 403,
      message: 'The request signature we calculated does not match',
    });
  });

  it.each<[number, string]>([
    [400, 'BadRequest'],
    [403, 'Forbidden'],
    [404, 'NotFound'],
    [429, 'TooManyRequests'],
    [500, 'InternalError'],
    [503, 'ServiceUnavailable'],
  ])('names a bodiless %i (a HEAD answer) as the SDK does: %s', (status, code) => {
    expect(s3ErrorOf(status, Buffer.alloc(0))).toMatchObject({ code, statusCode: status });
  });

  it('keeps no code for a status it does not know, and says the status instead of a message', () => {
    const error = s3ErrorOf(418, '');
    expect(error.code).toBeUndefined();
    expect(error.message).toBe("I'm a Teapot");
    expect(classifyCosError(error)).toMatchObject({ kind: 'rejected', code: 'HTTP 418' });
  });

  it('falls back on the status when the body is not S3 XML (a proxy page, a cut-off answer)', () => {
    expect(s3ErrorOf(502, '<html><body>Bad gateway</body></html>')).toMatchObject({ code: 'BadGateway', statusCode: 502 });
    expect(s3ErrorOf(500, '<Error><Code>Internal')).toMatchObject({ code: 'InternalError', statusCode: 500 });
  });

  it.each<[string, number, string, boolean]>([
    ['SlowDown', 503, 'throttled', true],
    ['InternalError', 500, 'server', true],
    ['RequestTimeout', 400, 'timeout', true],
    ['InvalidAccessKeyId', 403, 'credentials', false],
    ['AccessDenied', 403, 'access-denied', false],
    ['NoSuchBucket', 404, 'no-such-bucket', false],
    ['InvalidArgument', 400, 'rejected', false],
  ])('gives classifyCosError what it needs for %s', (code, status, kind, retryable) => {
    expect(classifyCosError(s3ErrorOf(status, errorXml(code, 'words')))).toMatchObject({ kind, retryable, code, statusCode: status, detail: 'words' });
  });

  it('reads a bodiless 404 of HeadBucket as a missing bucket, and a bodiless 403 as denied access', () => {
    expect(classifyCosError(s3ErrorOf(404, ''), 'HeadBucket')).toMatchObject({ kind: 'no-such-bucket', code: 'NoSuchBucket' });
    expect(classifyCosError(s3ErrorOf(403, ''), 'HeadBucket')).toMatchObject({ kind: 'access-denied', code: 'Forbidden', retryable: false });
  });

  it('decodes XML escapes in the message', () => {
    expect(s3ErrorOf(400, errorXml('InvalidArgument', 'a &lt;b&gt; &amp; &#34;c&#34;')).message).toBe('a <b> & "c"');
  });
});

describe('parseListPage', () => {
  it('reads one key (an object, not an array, to a naive parser) and several alike', () => {
    expect(parseListPage(listXml(['orders/a.json']))).toEqual({ keys: ['orders/a.json'], nextContinuationToken: undefined });
    expect(parseListPage(listXml(['orders/a.json', 'orders/b.json'])).keys).toEqual(['orders/a.json', 'orders/b.json']);
  });

  it('reads an empty page', () => {
    expect(parseListPage(listXml([]))).toEqual({ keys: [], nextContinuationToken: undefined });
  });

  it('keeps keys as text: no numbers, no trimming', () => {
    expect(parseListPage(listXml(['0001', ' spaced ', 'true'])).keys).toEqual(['0001', ' spaced ', 'true']);
  });

  it('decodes the escapes S3 servers write in keys, named and numeric (Go writes a quote as &#34;)', () => {
    const page = parseListPage(listXml(['a &amp; b', '&lt;x&gt;', 'q&#34;uote&#39;s', 'caf&#xE9;', 'café', 'tab&#x9;', 'lit &amp;#34;']));
    expect(page.keys).toEqual(['a & b', '<x>', 'q"uote\'s', 'café', 'café', 'tab\t', 'lit &#34;']);
  });

  it('gives the continuation token of a truncated page, and none of the last', () => {
    const truncated = listXml(['k1'], '<IsTruncated>true</IsTruncated><ContinuationToken>t0</ContinuationToken><NextContinuationToken>1/abc+def=</NextContinuationToken>');
    expect(parseListPage(truncated)).toEqual({ keys: ['k1'], nextContinuationToken: '1/abc+def=' });
    expect(parseListPage(listXml(['k1'], '<IsTruncated>false</IsTruncated><NextContinuationToken>stale</NextContinuationToken>')).nextContinuationToken).toBeUndefined();
  });

  it('refuses an answer that is not a listing, or a truncated page with nowhere to go on', () => {
    expect(() => parseListPage('<html/>')).toThrow('ListObjectsV2 answered without a ListBucketResult');
    expect(() => parseListPage(listXml(['k1'], '<IsTruncated>true</IsTruncated>'))).toThrow('without a NextContinuationToken');
  });
});
