// The few places where the dialects differ in DDL.
import { sql, type CreateTableBuilder } from 'kysely';
import type { DialectName } from '../connect.ts';

type DataTypeExpression = Parameters<CreateTableBuilder<string, string>['addColumn']>[1];

export interface Columns {
  /** A string of any length (MySQL TEXT stops at 64 KiB). */
  text: DataTypeExpression;
  /** Bytes of any length, up to the body limit. */
  bytes: DataTypeExpression;
  /** Makes MySQL tables InnoDB, utf8mb4, and compare byte for byte (names are case-sensitive). */
  table<T extends string, C extends string>(builder: CreateTableBuilder<T, C>): CreateTableBuilder<T, C>;
}

export function columnsFor(dialect: DialectName): Columns {
  if (dialect === 'mysql') {
    return {
      text: sql`longtext`,
      bytes: sql`longblob`,
      table: (builder) => builder.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`),
    };
  }
  return { text: 'text', bytes: 'blob', table: (builder) => builder };
}
