// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/: what each folder may import from the other folders. The one table; each
 * folder's README states the same in its "May import:" line (test/unit/layering-lint.test.ts
 * checks both, and that lint rejects a violation). Data flows one way (../shared/STYLE.md):
 * leaves (errors, log, gtid, codec) <- protocol (binlog, binlog-file, mysql) and storage <-
 * policy (catalog, archiver, backup, maintenance, restore, jobs) <- shells (cli, lambdas, cdk).
 *
 * - `may`: folders whose exports may be imported;
 * - `types`: folders from which only types may be imported (`import type`);
 * - `files`: folders from which only the named files may be imported (stable constants).
 * Any other folder of src/ is forbidden. A new folder of src/ needs an entry here.
 *
 * @type {Record<string, { may: string[]; types?: string[]; files?: Record<string, string[]> }>}
 */
export const LAYERS = {
  errors: { may: [] },
  log: { may: [] },
  gtid: { may: ['errors'] },
  codec: { may: ['errors'] },
  storage: { may: ['errors', 'log'] },
  config: { may: ['errors', 'log'], types: ['mysql'] },
  binlog: { may: ['errors', 'gtid'] },
  'binlog-file': {
    may: ['errors'],
    files: { binlog: ['event-header', 'event-type', 'binlog-checksum', 'format-description-event'] },
  },
  mysql: {
    may: ['errors', 'log'],
    files: {
      binlog: ['event-header', 'event-type', 'binlog-checksum', 'rotate-event', 'format-description-event'],
    },
  },
  catalog: { may: ['errors', 'gtid', 'codec'], types: ['storage'] },
  jobs: { may: ['config', 'errors', 'log'], files: { storage: ['object-store', 'storage-error'] } },
  archiver: {
    may: ['binlog', 'gtid', 'catalog', 'storage', 'codec', 'mysql', 'errors', 'log'],
    types: ['config'],
  },
  backup: {
    may: ['catalog', 'storage', 'codec', 'mysql', 'errors', 'log'],
    types: ['config'],
  },
  maintenance: {
    may: ['binlog', 'gtid', 'catalog', 'storage', 'codec', 'mysql', 'errors', 'log'],
    types: ['config'],
    files: { archiver: ['lease'] },
  },
  restore: {
    may: ['binlog', 'gtid', 'catalog', 'codec', 'mysql', 'storage', 'errors', 'log'],
    types: ['config'],
  },
  undo: {
    may: ['binlog', 'catalog', 'restore', 'errors'],
    types: ['storage'],
  },
  cli: {
    may: [
      'errors',
      'log',
      'gtid',
      'codec',
      'storage',
      'config',
      'binlog',
      'binlog-file',
      'mysql',
      'catalog',
      'jobs',
      'archiver',
      'backup',
      'maintenance',
      'restore',
      'undo',
    ],
  },
};

/** Entry points outside src/: what of src/ they may import. */
const SHELLS = {
  lambdas: { may: Object.keys(LAYERS).filter((f) => f !== 'cli') },
  cdk: { may: ['config', 'jobs'] },
};

/**
 * Packages that only one folder of src/ (or one file of it) may import; `typesElsewhere`: other
 * folders may import its types. lambdas/ and cdk/ wire the SDKs and are not limited.
 */
const PACKAGE_HOMES = {
  '@aws-sdk/*': { folder: 'storage', file: 's3-object-store.ts', typesElsewhere: false },
  'zstd-napi': { folder: 'codec', file: undefined, typesElsewhere: false },
  mysql2: { folder: 'mysql', file: undefined, typesElsewhere: true },
};

/** Escapes regex metacharacters (folder and file names hold letters, digits and `-`). */
const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * no-restricted-imports patterns for code in `from` (a src folder, or `src` for the shells, whose
 * imports start with `../src/` or `../../src/`).
 *
 * @param {string} where how messages name the importing folder
 * @param {string} prefix regex for the relative path up to the folder names
 * @param {{ may: string[]; types?: string[]; files?: Record<string, string[]> }} layer
 * @param {string} self the folder itself (never restricted)
 */
function layerPatterns(where, prefix, layer, self) {
  const see = `The layers are declared in eslint.config.js (LAYERS) and in each folder's README.`;
  const patterns = [];
  for (const folder of Object.keys(LAYERS)) {
    if (folder === self || layer.may.includes(folder)) continue;
    const files = layer.files?.[folder];
    if (files) {
      patterns.push({
        regex: `${prefix}${escape(folder)}/(?!(${files.map(escape).join('|')})\\.js$)`,
        message: `${where} may import only ${files.map((f) => `${f}.ts`).join(', ')} of src/${folder}. ${see}`,
      });
    } else if (layer.types?.includes(folder)) {
      patterns.push({
        regex: `${prefix}${escape(folder)}(/|$)`,
        allowTypeImports: true,
        message: `${where} may import only types from src/${folder} (use \`import type\`). ${see}`,
      });
    } else {
      patterns.push({
        regex: `${prefix}${escape(folder)}(/|$)`,
        message: `${where} must not import src/${folder}. ${see}`,
      });
    }
  }
  return patterns;
}

/**
 * Patterns forbidding packages outside their home, for the files of src/`folder` (`file`: one of
 * them, when it is a package's home file).
 *
 * @param {string} folder
 * @param {string} [file]
 */
function packagePatterns(folder, file) {
  return Object.entries(PACKAGE_HOMES)
    .filter(([, home]) => home.folder !== folder || (home.file !== undefined && home.file !== file))
    .map(([name, home]) => ({
      group: [name],
      ...(home.typesElsewhere ? { allowTypeImports: true } : {}),
      message:
        `src/${folder} must not import ${name}${home.typesElsewhere ? ' except its types' : ''}: ` +
        `only src/${home.folder}${home.file ? `/${home.file}` : ''} does.`,
    }));
}

const SRC_UP = '^(\\.\\./)+';
const layering = [
  ...Object.entries(LAYERS).map(([folder, layer]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layerPatterns(`src/${folder}`, SRC_UP, layer, folder),
            {
              regex: `${SRC_UP}(lambdas|cdk|test|bench|scripts)/`,
              message: `src/${folder} must not import lambdas, cdk, test, bench or scripts.`,
            },
            ...packagePatterns(folder),
          ],
        },
      ],
    },
  })),
  // The one file of src/ that may import the AWS SDK.
  {
    files: ['src/storage/s3-object-store.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layerPatterns('src/storage', SRC_UP, LAYERS.storage, 'storage'),
            {
              regex: `${SRC_UP}(lambdas|cdk|test|bench|scripts)/`,
              message: 'src/storage must not import lambdas, cdk, test, bench or scripts.',
            },
            ...packagePatterns('storage', 's3-object-store.ts'),
          ],
        },
      ],
    },
  },
  ...Object.entries(SHELLS).map(([shell, layer]) => ({
    files: [`${shell}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: layerPatterns(shell, `${SRC_UP}src/`, layer, '') }],
    },
  })),
];

export default tseslint.config(
  { ignores: ['dist/**', '.bench-dist/**', 'node_modules/**', 'cdk/cdk.out/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layering,
);
