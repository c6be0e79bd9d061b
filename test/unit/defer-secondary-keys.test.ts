/**
 * deferSecondaryKeys / referencedTables / addKeysStatement (pure): which keys of a dumped CREATE
 * TABLE are taken out, verbatim and in order, on tricky definitions (quoted names with backticks,
 * commas and parentheses, comments and strings holding "KEY", generated columns, CHECK
 * constraints), and every definition that must be loaded as it is.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addKeysStatement,
  deferSecondaryKeys,
  referencedTables,
} from '../../src/restore/load/defer-secondary-keys.js';

const create = (
  body: string[],
  tail = ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci',
): string => `CREATE TABLE \`t\` (\n${body.map((l) => `  ${l}`).join(',\n')}\n${tail}`;

describe('deferSecondaryKeys', () => {
  it('takes the plain keys out of the sysbench table, keeping the rest byte for byte', () => {
    const sql = create(
      [
        '`id` int(10) unsigned NOT NULL AUTO_INCREMENT',
        '`k` int(10) unsigned NOT NULL DEFAULT 0',
        "`c` char(120) NOT NULL DEFAULT ''",
        'PRIMARY KEY (`id`)',
        'KEY `k_1` (`k`)',
      ],
      ') ENGINE=InnoDB AUTO_INCREMENT=250001 DEFAULT CHARSET=latin1',
    );
    assert.deepEqual(deferSecondaryKeys(sql), {
      createTable:
        'CREATE TABLE `t` (\n  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,\n  `k` int(10) unsigned NOT NULL DEFAULT 0,\n' +
        "  `c` char(120) NOT NULL DEFAULT '',\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=250001 DEFAULT CHARSET=latin1",
      keys: ['KEY `k_1` (`k`)'],
    });
  });

  it('reads quoted names with backticks, commas and parentheses, and strings and comments holding KEY', () => {
    const sql =
      'CREATE TABLE `we``ird, KEY (t)` (\n' +
      "  `a,b``` int(11) NOT NULL COMMENT 'KEY `x` (`y`), KEY',\n" +
      "  `KEY (c)` varchar(30) NOT NULL DEFAULT 'it''s, KEY (z)',\n" +
      "  `d` varchar(10) DEFAULT 'back\\\\slash\\', KEY'," +
      '\n  PRIMARY KEY (`a,b```),\n' +
      "  KEY `k``1, (x)` (`KEY (c)`(5)) COMMENT 'a KEY, with ) and ''quotes''',\n" +
      '  KEY `k2` (`d`,`a,b```) IGNORED\n' +
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='KEY x (y), PARTITION'";
    const r = deferSecondaryKeys(sql);
    assert.deepEqual(r?.keys, [
      "KEY `k``1, (x)` (`KEY (c)`(5)) COMMENT 'a KEY, with ) and ''quotes'''",
      'KEY `k2` (`d`,`a,b```) IGNORED',
    ]);
    assert.equal(
      r?.createTable,
      'CREATE TABLE `we``ird, KEY (t)` (\n' +
        "  `a,b``` int(11) NOT NULL COMMENT 'KEY `x` (`y`), KEY',\n" +
        "  `KEY (c)` varchar(30) NOT NULL DEFAULT 'it''s, KEY (z)',\n" +
        "  `d` varchar(10) DEFAULT 'back\\\\slash\\', KEY',\n" +
        '  PRIMARY KEY (`a,b```)\n' +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='KEY x (y), PARTITION'",
    );
  });

  it('keeps generated columns, CHECK constraints, UNIQUE and FULLTEXT keys; takes INDEX and key options', () => {
    const sql = create([
      '`a` int(11) NOT NULL',
      '`v` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL',
      "`s` varchar(40) GENERATED ALWAYS AS (concat(`a`,',KEY (x)')) STORED",
      '`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`))',
      'PRIMARY KEY (`a`)',
      'UNIQUE KEY `u` (`s`)',
      'KEY `kv` (`v`) USING BTREE',
      'KEY `ks` (`s`(10),`v`) KEY_BLOCK_SIZE=8',
      'FULLTEXT KEY `ft` (`s`)',
      'CONSTRAINT `chk, KEY` CHECK (`a` >= 0)',
      'CHECK (`v` < 100)',
    ]);
    const r = deferSecondaryKeys(sql);
    assert.deepEqual(r?.keys, ['KEY `kv` (`v`) USING BTREE', 'KEY `ks` (`s`(10),`v`) KEY_BLOCK_SIZE=8']);
    assert.equal(
      r?.createTable,
      create([
        '`a` int(11) NOT NULL',
        '`v` int(11) GENERATED ALWAYS AS (`a` * 2) VIRTUAL',
        "`s` varchar(40) GENERATED ALWAYS AS (concat(`a`,',KEY (x)')) STORED",
        '`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`))',
        'PRIMARY KEY (`a`)',
        'UNIQUE KEY `u` (`s`)',
        'FULLTEXT KEY `ft` (`s`)',
        'CONSTRAINT `chk, KEY` CHECK (`a` >= 0)',
        'CHECK (`v` < 100)',
      ]),
    );
  });

  it('keeps an AUTO_INCREMENT column led by a kept key; refuses one only a plain key leads', () => {
    const unique = create([
      '`id` int(11) NOT NULL AUTO_INCREMENT',
      '`k` int(11) DEFAULT NULL',
      'UNIQUE KEY `id` (`id`)',
      'KEY `k` (`k`)',
    ]);
    assert.deepEqual(deferSecondaryKeys(unique)?.keys, ['KEY `k` (`k`)']);
    const plainLeads = create([
      '`a` int(11) NOT NULL',
      '`id` int(11) NOT NULL AUTO_INCREMENT',
      'PRIMARY KEY (`a`,`id`)',
      'KEY `id` (`id`)',
    ]);
    assert.equal(deferSecondaryKeys(plainLeads), null);
  });

  const refused: [string, string][] = [
    ['no plain key', create(['`a` int(11) NOT NULL', 'PRIMARY KEY (`a`)', 'UNIQUE KEY `u` (`a`)'])],
    ['MyISAM', create(['`a` int(11) NOT NULL', 'KEY `k` (`a`)'], ') ENGINE=MyISAM DEFAULT CHARSET=latin1')],
    ['Aria', create(['`a` int(11) NOT NULL', 'KEY `k` (`a`)'], ') ENGINE=Aria')],
    ['no engine', create(['`a` int(11) NOT NULL', 'KEY `k` (`a`)'], ')')],
    [
      'partitioned',
      create(
        ['`a` int(11) NOT NULL', 'KEY `k` (`a`)'],
        ') ENGINE=InnoDB DEFAULT CHARSET=latin1\n PARTITION BY HASH (`a`)\nPARTITIONS 4',
      ),
    ],
    [
      'partitioned, MySQL style',
      create(
        ['`a` int(11) NOT NULL', 'KEY `k` (`a`)'],
        ') ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`a`) */',
      ),
    ],
    [
      'system versioned',
      create(
        ['`a` int(11) NOT NULL', 'KEY `k` (`a`)'],
        ') ENGINE=InnoDB DEFAULT CHARSET=latin1 WITH SYSTEM VERSIONING',
      ),
    ],
    [
      'a foreign key',
      create([
        '`a` int(11) NOT NULL',
        '`p` int(11) NOT NULL',
        'KEY `k` (`a`)',
        'CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `parent` (`id`)',
      ]),
    ],
    [
      'a SPATIAL key',
      create(['`a` int(11) NOT NULL', '`p` point NOT NULL', 'KEY `k` (`a`)', 'SPATIAL KEY `sp` (`p`)']),
    ],
    ['a comment in the body', create(['`a` int(11) NOT NULL /* note */', 'KEY `k` (`a`)'])],
    ['a versioned comment in a key', create(['`a` int(11) NOT NULL', 'KEY `k` (`a`) /*!80000 INVISIBLE */'])],
    [
      'an element it does not know',
      create(['`a` int(11) NOT NULL', 'KEY `k` (`a`)', 'VECTOR INDEX `v` (`a`)']),
    ],
    ['an unquoted key name', create(['`a` int(11) NOT NULL', 'KEY k (`a`)'])],
    [
      'CREATE TEMPORARY TABLE',
      'CREATE TEMPORARY TABLE `t` (\n  `a` int NOT NULL,\n  KEY `k` (`a`)\n) ENGINE=InnoDB',
    ],
    [
      'CREATE TABLE ... SELECT',
      'CREATE TABLE `t` (\n  `a` int NOT NULL,\n  KEY `k` (`a`)\n) ENGINE=InnoDB SELECT 1 AS a',
    ],
    [
      'an unclosed string',
      "CREATE TABLE `t` (\n  `a` int NOT NULL DEFAULT 'x,\n  KEY `k` (`a`)\n) ENGINE=InnoDB",
    ],
    ['unbalanced parentheses', 'CREATE TABLE `t` (\n  `a` int NOT NULL,\n  KEY `k` (`a`\n ENGINE=InnoDB'],
    ['not a CREATE TABLE', 'ALTER TABLE `t` ADD KEY `k` (`a`)'],
  ];
  for (const [what, sql] of refused) {
    it(`loads as it is: ${what}`, () => {
      assert.equal(deferSecondaryKeys(sql), null);
    });
  }
});

describe('referencedTables', () => {
  it('finds each referenced table, in this database or another, quotes undone', () => {
    const sql = create([
      '`a` int(11) NOT NULL',
      '`b` int(11) NOT NULL',
      'CONSTRAINT `f1` FOREIGN KEY (`a`) REFERENCES `par``ent, x` (`id`) ON DELETE CASCADE',
      'CONSTRAINT `f2` FOREIGN KEY (`b`) REFERENCES `other db`.`p2` (`id`)',
    ]);
    assert.deepEqual(referencedTables(sql, 'app'), [
      { database: 'app', table: 'par`ent, x' },
      { database: 'other db', table: 'p2' },
    ]);
  });

  it("ignores the word in strings and names (a privilege table's 'References'), refuses what it cannot read", () => {
    const priv = create([
      "`Table_priv` set('Select','Insert','References') NOT NULL DEFAULT ''",
      '`REFERENCES` int(11) NOT NULL',
      'KEY `k` (`REFERENCES`)',
    ]);
    assert.deepEqual(referencedTables(priv, 'mysql'), []);
    assert.equal(referencedTables(create(['`a` int', 'CHECK (a > 0) /* REFERENCES x */']), 'd'), null);
    assert.equal(referencedTables(create(['`a` int REFERENCES p(id)']), 'd'), null);
  });
});

describe('addKeysStatement', () => {
  it('adds every key in one ALTER TABLE, names quoted', () => {
    assert.equal(
      addKeysStatement('d`b', 'we`ird, t', ['KEY `a` (`x`)', "KEY `b` (`y`(5)) COMMENT 'c, KEY'"]),
      "ALTER TABLE `d``b`.`we``ird, t` ADD KEY `a` (`x`), ADD KEY `b` (`y`(5)) COMMENT 'c, KEY'",
    );
  });
});
