export { GtidError } from './gtid-error.js';
export {
  MysqlGtidSet,
  formatMysqlGtid,
  parseMysqlGtid,
  type GnoInterval,
  type MysqlGtid,
} from './mysql-gtid-set.js';
export { MariadbGtidPos, formatMariadbGtid, parseMariadbGtid, type MariadbGtid } from './mariadb-gtid-pos.js';
