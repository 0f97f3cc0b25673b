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
  /** How many accounts held this name before (db/keys.ts accountKey). */
  generation: ColumnType<number, number | undefined, number>;
  /** A few words the user says about themself on their profile; '' when none. */
  bio: ColumnType<string, string | undefined, string>;
}

/** A user's avatar (users/avatar.ts): square copies made at upload; the original is not kept. */
export interface UserAvatarsTable {
  username_hash: string;
  /** The copies' content hash, first 16 hex digits: part of their URLs, so they may be cached for good. */
  version: string;
  webp: Buffer;
  jpeg: Buffer;
}

/** The last generation of each name whose account was deleted. */
export interface NameGenerationsTable {
  name_hash: string;
  generation: number;
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
  /** For listings by name (rows 20, 16's ?username): every act ever stored under the name. */
  username_hash: string;
  /** The account that stored it (db/keys.ts accountKey): who may remove it. */
  owner_key: ColumnType<string, string | undefined, string>;
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
  /** What the photo shows, for people who cannot see it; '' when none was given. */
  alt_text: ColumnType<string, string | undefined, string>;
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

/** One row per (act, account) upvote in owner mode. */
export interface ActUpvotesTable {
  act_seq: number;
  /** The voter's account key (db/keys.ts accountKey; the name's key for generation 0). */
  username_hash: string;
}

/** Comments on an act (acts/comments-store.ts), oldest first by seq. */
export interface ActCommentsTable {
  seq: Generated<number>;
  act_seq: number;
  username: string;
  /** The author's account key (db/keys.ts accountKey): who may remove it besides the act's author. */
  author_key: string;
  text: string;
  /** Epoch ms. */
  created_at: ColumnType<number | string, number, number>;
}

/** One row per service, rewritten by every health check to prove the database takes writes. */
export interface HealthTable {
  id: number;
  checked_at: ColumnType<number | string, number, number>;
}

/** Failed log-ins of a name: the GCRA's theoretical arrival time (users/login-throttle.ts). */
export interface LoginFailuresTable {
  name_hash: string;
  tat: ColumnType<number | string, number, number>;
}

export interface UsersSchema {
  users: UsersTable;
  user_avatars: UserAvatarsTable;
  name_generations: NameGenerationsTable;
  login_failures: LoginFailuresTable;
  users_health: HealthTable;
}

export interface ActsSchema {
  categories: CategoriesTable;
  acts: ActsTable;
  act_images: ActImagesTable;
  act_variants: ActVariantsTable;
  act_upvotes: ActUpvotesTable;
  act_comments: ActCommentsTable;
  acts_health: HealthTable;
}
