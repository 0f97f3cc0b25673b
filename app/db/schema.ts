// Table shapes. Unbounded strings live in TEXT columns; uniqueness and lookups go through a
// SHA-256 hex column of the exact UTF-8 bytes, because neither MariaDB nor MySQL can put a
// unique index on a TEXT of any length, and because the hash is case-sensitive whatever the
// column collation is.
import type { ColumnType, Generated } from 'kysely';

/** mysql2 returns BIGINT as a string (bigNumberStrings); SQLite as a number. */
type BigCount = ColumnType<number | string, number | undefined, number>;

export interface UsersTable {
  seq: Generated<number>;
  username: string;
  username_hash: string;
  /** scrypt$N$r$p$salt$hash, never the SHA1 hex the client sent. */
  password_hash: string;
  /** Named by every session cookie of this user; a new one revokes them all ('' = none yet). */
  session_key: ColumnType<string, string | undefined, string>;
}

export interface CategoriesTable {
  id: Generated<number>;
  name: string;
  name_hash: string;
}

export interface ActsTable {
  /** Upload order: the tie-breaker for equal timestamps (latest upload first). */
  seq: Generated<number>;
  /** Canonical decimal string: no leading zeros, any number of digits. */
  act_id: string;
  act_id_hash: string;
  username: string;
  username_hash: string;
  /** As given, DD-MM-YYYY:SS-MM-HH. */
  timestamp: string;
  /** YYYYMMDDHHMMSS, sorts like the time it names. */
  sort_key: string;
  caption: string;
  upvotes: BigCount;
  category_id: number;
  image_type: string;
  image_etag: string;
  /** The upright photo's size; null when it has no variants (not an image sharp reads, or older). */
  image_width: number | null;
  image_height: number | null;
  /** The variants' widths, comma-separated ("320,640,1280,1920"); null when none. */
  variant_widths: string | null;
}

/** An act's image, split in parts (see migrations/acts.ts). */
export interface ActImagesTable {
  act_seq: number;
  part: number;
  bytes: Buffer;
}

/** A sized copy of an act's image (acts/variants.ts), named like its route: `640.webp`; in parts as images are. */
export interface ActVariantsTable {
  act_seq: number;
  name: string;
  part: number;
  bytes: Buffer;
}

/** One row per (act, user) upvote in owner mode. */
export interface ActUpvotesTable {
  act_seq: number;
  username_hash: string;
}

/** One row per service, rewritten by every health check to prove the database takes writes. */
export interface HealthTable {
  id: number;
  checked_at: ColumnType<number | string, number, number>;
}

export interface UsersSchema {
  users: UsersTable;
  users_health: HealthTable;
}

export interface ActsSchema {
  categories: CategoriesTable;
  acts: ActsTable;
  act_images: ActImagesTable;
  act_variants: ActVariantsTable;
  act_upvotes: ActUpvotesTable;
  acts_health: HealthTable;
}
