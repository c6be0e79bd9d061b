import { LazyS3ObjectStore, openObjectStore } from '../../src/storage/index.js';
import { objectStoreContract } from '../support/object-store-contract.js';
import { startS3Emulator } from '../support/s3-emulator.js';

const MIB = 1024 * 1024;

// The store `--repo s3://...` really gets: openObjectStore's LazyS3ObjectStore, which imports the
// AWS SDK on its first operation. It must keep the whole contract of the S3ObjectStore it wraps.
objectStoreContract('LazyS3ObjectStore via openObjectStore (fauxqs emulator)', async () => {
  const emulator = await startS3Emulator();
  const stores: LazyS3ObjectStore[] = [];
  let n = 0;
  return {
    newStore: async () => {
      const store = openObjectStore(`s3://${emulator.bucket}/lazy-contract/run-${n++}`, {
        endpoint: emulator.endpoint,
        region: emulator.region,
        credentials: emulator.credentials,
        s3: { partSizeBytes: 5 * MIB, queueSize: 2, retryBaseDelayMs: 10 },
      });
      if (!(store instanceof LazyS3ObjectStore))
        throw new Error(`expected a LazyS3ObjectStore, got ${store.describe()}`);
      stores.push(store);
      return store;
    },
    bytesReceived: async () => emulator.bytesReceived,
    // Parts in flight (queueSize) plus the one being filled, plus stream buffers.
    maxReadAheadBytes: 16 * MIB,
    close: async () => {
      for (const store of stores) store.destroy();
      await emulator.stop();
    },
  };
});
