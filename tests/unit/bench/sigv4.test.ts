import { SigV4Signer } from '../../../bench/sigv4';

describe('SigV4Signer (the bench floor of B3)', () => {
  // The "PUT Object" example of AWS's "Signature Calculations for the Authorization Header"
  // (sig-v4-header-based-auth): same keys, request, date and expected signature.
  it('signs the example PUT of the AWS documentation as documented', () => {
    const signer = new SigV4Signer('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-east-1');
    const headers = signer.sign('PUT', 'examplebucket.s3.amazonaws.com', '/test%24file.text', Buffer.from('Welcome to Amazon S3.'), new Date('2013-05-24T00:00:00Z'), {
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    });
    expect(headers['x-amz-content-sha256']).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
        'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, ' +
        'Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });
});
