export const MAX_TAGS_PER_RUN = 10;
export const MAX_TAG_LENGTH = 128;
export const MAX_METADATA_BYTES = 262_144;
/** Postgres int4 ceiling (priority, usage, max duration columns). */
export const INT4_MAX = 2_147_483_647;
export const DEFAULT_MACHINE = "small-1x";
