/** kafkajs-snappy ships no types: it exports a factory of kafkajs compression codecs. */
declare module 'kafkajs-snappy' {
  interface SnappyCodec {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }

  const createSnappyCodec: () => SnappyCodec;
  export = createSnappyCodec;
}
