export {
  executeUndo,
  checkRows,
  readTargetTables,
  type UndoDeps,
  type UndoReport,
  type UndoSession,
} from './execute-undo.js';
export {
  planUndo,
  mentionsTable,
  type RowCheck,
  type UndoOp,
  type UndoPlan,
  type UndoSummary,
} from './plan-undo.js';
export {
  readUndoSource,
  type DdlStatement,
  type UndoReadStats,
  type UndoRowChange,
  type UndoSelection,
  type UndoSource,
  type UndoTransaction,
} from './read-undo-source.js';
export { tableName, type TargetColumn, type TargetTable } from './target-table.js';
export {
  UndoConflictError,
  UndoRefusedError,
  UndoRowCountError,
  type UndoConflict,
  type UndoRefusalReason,
} from './undo-error.js';
export {
  displayText,
  qualifiedName,
  quoteIdent,
  readExpr,
  sameValue,
  valueLiteral,
  valueText,
} from './undo-sql.js';
export {
  keyPredicate,
  UNDO_SESSION_SQL,
  undoScript,
  undoStatements,
  type UndoStatement,
} from './undo-statements.js';
