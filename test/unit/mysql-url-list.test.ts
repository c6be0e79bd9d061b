import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitMysqlUrls } from '../../src/config/index.js';

describe('splitMysqlUrls (several servers in --source)', () => {
  it('gives one URL per host with the same user, path and query', () => {
    assert.deepEqual(splitMysqlUrls('mysql://repl@db1:3306,db2:3307/?ssl=true'), [
      'mysql://repl@db1:3306/?ssl=true',
      'mysql://repl@db2:3307/?ssl=true',
    ]);
    assert.deepEqual(splitMysqlUrls('mysql://repl@db1:3306'), ['mysql://repl@db1:3306']);
  });

  it('refuses an empty or repeated host', () => {
    assert.throws(() => splitMysqlUrls('mysql://repl@db1,,db2'), { code: 'CONFIG_INVALID' });
    assert.throws(() => splitMysqlUrls('mysql://repl@db1,db1'), { code: 'CONFIG_INVALID' });
  });
});
