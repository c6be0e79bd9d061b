import { StorageError } from './storage-error.js';

/** S3's limit on the UTF-8 length of a full key; our keys plus a bucket prefix must fit. */
const MAX_KEY_BYTES = 1024;

/**
 * Name prefix of the filesystem store's temporary files. A key segment may not start with it, so
 * a temporary file can never be mistaken for an object.
 */
export const TEMP_FILE_PREFIX = '.pitr-tmp-';

// C0 controls and DEL: invisible in messages, and NUL ends a path in the kernel.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function reject(store: string, what: string, value: string, why: string): never {
  throw new StorageError(
    'USAGE',
    `invalid object ${what} ${JSON.stringify(value)} for ${store}: ${why}. ` +
      'Keys are relative paths of non-empty segments separated by "/" (e.g. binlogs/mysql-bin.000042.zst).',
    { store, key: value },
  );
}

function checkSegments(store: string, what: string, value: string, segments: string[]): void {
  for (const segment of segments) {
    if (segment === '') reject(store, what, value, 'it has an empty segment ("//")');
    if (segment === '.' || segment === '..') reject(store, what, value, `it has a "${segment}" segment`);
    if (segment.startsWith(TEMP_FILE_PREFIX)) {
      reject(store, what, value, `a segment starts with ${TEMP_FILE_PREFIX}, reserved for temporary files`);
    }
  }
}

function checkCommon(store: string, what: string, value: string): void {
  if (typeof value !== 'string') reject(store, what, String(value), 'it is not a string');
  if (value.startsWith('/')) reject(store, what, value, 'it starts with "/"');
  if (CONTROL_CHARS.test(value)) reject(store, what, value, 'it contains a control character');
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) {
    reject(store, what, value, `it is longer than ${MAX_KEY_BYTES} bytes`);
  }
}

/**
 * Throws a StorageError (code USAGE) unless `key` is a valid object key (see `ObjectStore`).
 * `store` is the store's description, for the message.
 */
export function validateObjectKey(store: string, key: string): void {
  checkCommon(store, 'key', key);
  if (key === '') reject(store, 'key', key, 'it is empty');
  if (key.endsWith('/')) reject(store, 'key', key, 'it ends with "/"');
  checkSegments(store, 'key', key, key.split('/'));
}

/**
 * Throws a StorageError (code USAGE) unless `prefix` is a valid listing prefix: `''`, or a key
 * prefix whose complete segments are valid (`binlogs/`, `binlogs/mysql-bin.0001`).
 */
export function validateKeyPrefix(store: string, prefix: string): void {
  checkCommon(store, 'prefix', prefix);
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  checkSegments(store, 'prefix', prefix, segments);
  // The last, partial segment may be empty ("binlogs/") or any start of a valid segment.
  if (last === '.' || last === '..') reject(store, 'prefix', prefix, `it has a "${last}" segment`);
}

/**
 * Orders keys as S3 lists them: by the bytes of their UTF-8 encoding (JavaScript's `<` compares
 * UTF-16 code units, which differs above U+FFFF).
 */
export function compareObjectKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
