// The layering of src/ is enforced by lint (issue 18): eslint.config.js declares one table of
// layers (LAYERS), lint rejects an import that breaks it, and every module README states it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../support/run-cli.js';

/** One row of the table in eslint.config.js. */
interface Layer {
  may: string[];
  types?: string[];
  files?: Record<string, string[]>;
}

// eslint.config.js is plain JavaScript (no declarations for the type checker): import it by URL.
const { LAYERS } = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as {
  LAYERS: Record<string, Layer>;
};

const eslint = new ESLint({ cwd: PROJECT_ROOT });

/** The no-restricted-imports messages lint gives `code` as if it were the file `path` of the project. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(PROJECT_ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const SRC_FOLDERS = readdirSync(join(PROJECT_ROOT, 'src')).filter((f) =>
  statSync(join(PROJECT_ROOT, 'src', f)).isDirectory(),
);

describe('lint rejects an import that breaks the layers', () => {
  it('src/catalog importing src/cli fails, naming both and the table', async () => {
    const errors = await layerErrors(
      'src/catalog/layering-probe.ts',
      "import { main } from '../cli/main.js';\nexport const probe = main;\n",
    );
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /src\/catalog must not import src\/cli\. The layers are declared in eslint\.config\.js/,
    );
  });

  it('the leaks this issue moved are rejected if they come back', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'src/restore/probe.ts',
        "import { buildDumpCommand } from '../archiver/dump-command.js';\nexport const p = buildDumpCommand;\n",
        /src\/restore must not import src\/archiver/,
      ],
      [
        'lambdas/probe.ts',
        "import { main } from '../src/cli/main.js';\nexport const p = main;\n",
        /lambdas must not import src\/cli/,
      ],
      [
        'src/catalog/probe.ts',
        "import { BinlogEventParser } from '../binlog/index.js';\nexport const p = BinlogEventParser;\n",
        /src\/catalog must not import src\/binlog/,
      ],
      [
        'src/gtid/probe.ts',
        "import { BinlogEventParser } from '../binlog/index.js';\nexport const p = BinlogEventParser;\n",
        /src\/gtid must not import src\/binlog/,
      ],
    ];
    for (const [path, code, expected] of cases) {
      const errors = await layerErrors(path, code);
      assert.equal(errors.length, 1, `${path}: ${errors.join('; ')}`);
      assert.match(errors[0]!, expected);
    }
  });

  it('types-only layers: `import type` passes, a value import fails', async () => {
    assert.deepEqual(
      await layerErrors(
        'src/catalog/probe.ts',
        "import type { ObjectStore } from '../storage/index.js';\nexport type P = ObjectStore;\n",
      ),
      [],
    );
    const errors = await layerErrors(
      'src/catalog/probe.ts',
      "import { FsObjectStore } from '../storage/index.js';\nexport const p = FsObjectStore;\n",
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /src\/catalog may import only types from src\/storage/);
  });

  it('file-limited layers: the stable header constants pass, the rest of src/binlog fails', async () => {
    assert.deepEqual(
      await layerErrors(
        'src/binlog-file/probe.ts',
        "import { EVENT_HEADER_SIZE } from '../binlog/event-header.js';\nexport const p = EVENT_HEADER_SIZE;\n",
      ),
      [],
    );
    const errors = await layerErrors(
      'src/binlog-file/probe.ts',
      "import { BinlogEventParser } from '../binlog/index.js';\nexport const p = BinlogEventParser;\n",
    );
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /src\/binlog-file may import only event-header\.ts, event-type\.ts, binlog-checksum\.ts, format-description-event\.ts of src\/binlog/,
    );
  });

  it('packages stay in their home: the AWS SDK outside s3-object-store.ts, mysql2 values outside src/mysql', async () => {
    const aws = await layerErrors(
      'src/storage/fs-probe.ts',
      "import { S3Client } from '@aws-sdk/client-s3';\nexport const p = S3Client;\n",
    );
    assert.equal(aws.length, 1);
    assert.match(aws[0]!, /only src\/storage\/s3-object-store\.ts does/);
    assert.deepEqual(
      await layerErrors(
        'src/storage/s3-object-store.ts',
        "import { S3Client } from '@aws-sdk/client-s3';\nexport const p = S3Client;\n",
      ),
      [],
    );
    const mysql2 = await layerErrors(
      'src/restore/probe.ts',
      "import { createConnection } from 'mysql2/promise';\nexport const p = createConnection;\n",
    );
    assert.equal(mysql2.length, 1);
    assert.match(mysql2[0]!, /must not import mysql2 except its types/);
    assert.deepEqual(
      await layerErrors(
        'src/restore/probe.ts',
        "import type { Connection } from 'mysql2/promise';\nexport type P = Connection;\n",
      ),
      [],
    );
  });

  it('an allowed import passes', async () => {
    assert.deepEqual(
      await layerErrors(
        'src/restore/probe.ts',
        "import { MysqlGtidSet } from '../gtid/index.js';\nexport const p = MysqlGtidSet;\n",
      ),
      [],
    );
  });
});

describe('the table of layers and the module READMEs agree', () => {
  it('every folder of src/ has an entry in LAYERS, and every entry a folder', () => {
    assert.deepEqual([...SRC_FOLDERS].sort(), Object.keys(LAYERS).sort());
  });

  for (const folder of SRC_FOLDERS) {
    it(`src/${folder}/README.md: "May import:" names exactly the folders LAYERS allows`, () => {
      const readme = readFileSync(join(PROJECT_ROOT, 'src', folder, 'README.md'), 'utf8');
      const match = /May import:([\s\S]*?)\.(\s|$)/.exec(readme);
      assert.ok(match, `src/${folder}/README.md has no "May import:" sentence`);
      const sentence = match[1]!;
      const named = sentence.includes('every `src/` module')
        ? SRC_FOLDERS.filter((f) => f !== folder)
        : [...new Set([...sentence.matchAll(/`src\/([a-z-]+)/g)].map((m) => m[1]!))];
      const layer = LAYERS[folder]!;
      const allowed = [...layer.may, ...(layer.types ?? []), ...Object.keys(layer.files ?? {})];
      assert.deepEqual([...named].sort(), [...allowed].sort(), sentence);
    });
  }
});
