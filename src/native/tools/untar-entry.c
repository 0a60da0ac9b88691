#define _GNU_SOURCE
#include "untar-entry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define BLOCK 512
/* A GNU long name or a PAX header bigger than this is not a real tar's (xattr values stop at 64 KiB). */
#define MAX_META_BYTES (16u * 1024 * 1024)

static const char SPARSE_PREFIX[] = "GNU.sparse.";
static const char XATTR_PREFIX[] = "SCHILY.xattr.";

struct record {
  char *key;
  /* The value's bytes with a NUL after them (for the records read as text). */
  unsigned char *value;
  size_t length;
};

/* What the headers before an entry said about it: GNU long names, the PAX records. */
static struct {
  char *long_name;
  char *long_link;
  struct record *records;
  size_t record_count;
} pending;

static char *copy_text(const void *bytes, size_t length) {
  char *text = tool_checked(malloc(length + 1));
  memcpy(text, bytes, length);
  text[length] = 0;
  return text;
}

/* A NUL-terminated header field (which may fill its whole width). */
static char *field_text(const unsigned char *block, size_t offset, size_t width) {
  const unsigned char *start = block + offset;
  const unsigned char *nul = memchr(start, 0, width);
  return copy_text(start, nul ? (size_t)(nul - start) : width);
}

static void drop_records(void) {
  for (size_t i = 0; i < pending.record_count; i++) {
    free(pending.records[i].key);
    free(pending.records[i].value);
  }
  free(pending.records);
  pending.records = NULL;
  pending.record_count = 0;
}

/* The last record with `key` (a key may repeat; the last one counts). */
static const struct record *record(const char *key) {
  for (size_t i = pending.record_count; i-- > 0;)
    if (strcmp(pending.records[i].key, key) == 0) return &pending.records[i];
  return NULL;
}

/*
 * A numeric header field: octal text (leading spaces, then digits, then NULs or spaces), or GNU's
 * base-256 form when the first byte has its high bit set (0xff: a negative number).
 */
static int64_t numeric(const unsigned char *block, size_t offset, size_t width, const char *what) {
  const unsigned char *f = block + offset;
  if (f[0] & 0x80) {
    bool negative = f[0] == 0xff;
    uint64_t value = negative ? 0xff : (f[0] & 0x7f);
    for (size_t i = 1; i < width; i++) {
      if (!negative && value > (UINT64_MAX >> 8)) tool_fail(0, "tar header %s out of range", what);
      value = (value << 8) | f[i];
    }
    if (negative) return (int64_t)value;  // two's complement over the whole field, sign-extended by the 0xff start
    if (value > INT64_MAX) tool_fail(0, "tar header %s out of range", what);
    return (int64_t)value;
  }
  size_t i = 0;
  while (i < width && f[i] == ' ') i++;
  int64_t value = 0;
  for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
    if (value > (INT64_MAX >> 3)) tool_fail(0, "tar header %s out of range", what);
    value = value * 8 + (f[i] - '0');
  }
  for (; i < width; i++)
    if (f[i] != 0 && f[i] != ' ') tool_fail(0, "invalid tar header number in %s: %.*s", what, (int)width, (const char *)f);
  return value;
}

static bool is_zero_block(const unsigned char *block) {
  for (size_t i = 0; i < BLOCK; i++)
    if (block[i] != 0 && (i < 148 || i >= 156)) return false;
  return true;
}

/* The checksum counts its own field as spaces; some old tars summed signed bytes, so either is taken. */
static void check_checksum(const unsigned char *block) {
  int64_t unsigned_sum = 0, signed_sum = 0;
  for (size_t i = 0; i < BLOCK; i++) {
    unsigned char byte = (i >= 148 && i < 156) ? ' ' : block[i];
    unsigned_sum += byte;
    signed_sum += (signed char)byte;
  }
  int64_t stored = numeric(block, 148, 8, "checksum");
  if (stored != unsigned_sum && stored != signed_sum)
    tool_fail(0, "invalid tar header (bad checksum): the tar is corrupt, truncated or still compressed");
}

static uint64_t padded(uint64_t size) {
  return (size + BLOCK - 1) / BLOCK * BLOCK;
}

/* The data of a metadata entry (long name, PAX records): read whole, padding skipped. */
static unsigned char *read_meta(struct input *in, int64_t size, const char *what) {
  if (size < 0 || (uint64_t)size > MAX_META_BYTES) tool_fail(0, "%s of %lld bytes is too big", what, (long long)size);
  unsigned char *data = tool_checked(malloc((size_t)size + 1));
  if (input_read(in, data, (size_t)size) != (size_t)size || !input_skip(in, padded((uint64_t)size) - (uint64_t)size))
    tool_fail(0, "unexpected end of data in %s", what);
  data[size] = 0;
  return data;
}

/*
 * PAX records "LEN key=value\n", LEN counting the whole record: length-delimited, so a value may
 * hold any byte (xattr values are binary). Later records replace the pending ones of an earlier
 * PAX header, as each PAX header describes the next entry only.
 */
static void parse_pax(const unsigned char *data, size_t size) {
  drop_records();
  size_t offset = 0;
  while (offset < size) {
    if (data[offset] == 0) {
      // Some writers pad the records with NULs.
      while (offset < size && data[offset] == 0) offset++;
      if (offset == size) break;
      tool_fail(0, "invalid PAX record at offset %zu", offset);
    }
    size_t length = 0, i = offset;
    for (; i < size && data[i] >= '0' && data[i] <= '9' && length < size; i++) length = length * 10 + (size_t)(data[i] - '0');
    if (i == offset || i >= size || data[i] != ' ' || length <= i - offset + 1 || length > size - offset)
      tool_fail(0, "invalid PAX record at offset %zu", offset);
    const unsigned char *body = data + i + 1;
    size_t body_length = offset + length - 1 - (i + 1);  // without the closing newline
    const unsigned char *equals = memchr(body, '=', body_length);
    if (!equals) tool_fail(0, "invalid PAX record at offset %zu (no '=')", offset);
    pending.records = tool_checked(reallocarray(pending.records, pending.record_count + 1, sizeof *pending.records));
    struct record *r = &pending.records[pending.record_count++];
    r->key = copy_text(body, (size_t)(equals - body));
    r->length = body_length - (size_t)(equals - body) - 1;
    r->value = (unsigned char *)copy_text(equals + 1, r->length);
    offset += length;
  }
}

static int64_t pax_integer(const struct record *r, const char *what) {
  const char *text = (const char *)r->value;
  char *end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno || end == text || *end || value < 0) tool_fail(0, "invalid PAX %s %s", what, text);
  return value;
}

/* A PAX time: decimal seconds, maybe negative, maybe with a fraction (down to nanoseconds). */
static struct timespec pax_time(const struct record *r, const char *what) {
  const char *text = (const char *)r->value;
  const char *p = text;
  bool negative = *p == '-';
  if (negative) p++;
  char *end;
  errno = 0;
  long long seconds = strtoll(p, &end, 10);
  if (errno || end == p || *p == '-' || *p == '+') tool_fail(0, "invalid PAX %s %s", what, text);
  long nanoseconds = 0;
  if (*end == '.') {
    long scale = 100000000;
    for (p = end + 1; *p >= '0' && *p <= '9'; p++, scale /= 10)
      if (scale > 0) nanoseconds += (*p - '0') * scale;
    end = (char *)p;
  }
  if (*end) tool_fail(0, "invalid PAX %s %s", what, text);
  struct timespec time = {.tv_sec = negative ? -seconds : seconds, .tv_nsec = nanoseconds};
  if (negative && nanoseconds) {
    time.tv_sec -= 1;
    time.tv_nsec = 1000000000 - nanoseconds;
  }
  return time;
}

uint64_t sparse_number(const char *text, size_t length, const char *name, const char *what) {
  uint64_t value = 0;
  bool valid = length >= 1 && length <= 16;
  for (size_t i = 0; valid && i < length; i++) {
    if (text[i] < '0' || text[i] > '9') valid = false;
    else value = value * 10 + (uint64_t)(text[i] - '0');
  }
  if (!valid) tool_fail(0, "entry %s: invalid sparse %s field \"%.*s\"", name, what, (int)length, text);
  return value;
}

static void add_chunk(struct entry *e, uint64_t offset, uint64_t size) {
  e->chunks = tool_checked(reallocarray(e->chunks, e->chunk_count + 1, sizeof *e->chunks));
  e->chunks[e->chunk_count++] = (struct sparse_chunk){offset, size};
}

static uint64_t sparse_record_number(const char *key, const char *name, const char *what) {
  const struct record *r = record(key);
  if (!r) tool_fail(0, "entry %s: invalid sparse %s field (missing %s)", name, what, key);
  return sparse_number((const char *)r->value, r->length, name, what);
}

/*
 * GNU tar's PAX sparse forms that carry the map: 1.0 (the map leads the entry's data) and 0.1
 * (GNU.sparse.map "offset,size,…"). 0.0 repeats its keys per chunk and is refused by name.
 */
static void apply_pax_sparse(struct entry *e) {
  bool any = false;
  for (size_t i = 0; i < pending.record_count && !any; i++) any = strncmp(pending.records[i].key, SPARSE_PREFIX, sizeof SPARSE_PREFIX - 1) == 0;
  if (!any) return;
  const struct record *name = record("GNU.sparse.name");
  if (name) {
    free(e->name);
    e->name = copy_text(name->value, strlen((const char *)name->value));
  }
  const struct record *major = record("GNU.sparse.major"), *minor = record("GNU.sparse.minor"), *map = record("GNU.sparse.map");
  e->sparse = true;
  if (major && minor && strcmp((const char *)major->value, "1") == 0 && strcmp((const char *)minor->value, "0") == 0) {
    e->sparse_inline_map = true;
    e->sparse_size = sparse_record_number("GNU.sparse.realsize", e->name, "real size");
  } else if (!major && map) {
    const char *text = (const char *)map->value;
    size_t fields = 0;
    uint64_t offset = 0;
    for (const char *field = text;; fields++) {
      const char *comma = strchr(field, ',');
      size_t length = comma ? (size_t)(comma - field) : strlen(field);
      uint64_t value = sparse_number(field, length, e->name, "map");
      if (fields % 2 == 0) offset = value;
      else add_chunk(e, offset, value);
      if (!comma) break;
      field = comma + 1;
    }
    if (fields % 2 == 0) tool_fail(0, "entry %s: sparse map with an odd number of fields", e->name);
    e->sparse_size = sparse_record_number("GNU.sparse.size", e->name, "real size");
  } else {
    char version[64];
    if (!major) snprintf(version, sizeof version, "0.0");
    else snprintf(version, sizeof version, "%.20s.%.20s", (const char *)major->value, minor ? (const char *)minor->value : "?");
    tool_fail(0, "entry %s: GNU sparse format %s is not supported (use tar --sparse-version=1.0, or no --sparse)", e->name, version);
  }
}

/* The (offset, size) slots of an old GNU sparse map: `count` 24-byte slots from `start`. */
static void old_sparse_slots(struct entry *e, const unsigned char *block, size_t start, size_t count) {
  for (size_t i = 0; i < count; i++) {
    size_t at = start + i * 24;
    if (block[at] == 0) break;
    add_chunk(e, (uint64_t)numeric(block, at, 12, "sparse offset"), (uint64_t)numeric(block, at + 12, 12, "sparse size"));
  }
}

/* An old GNU sparse header ('S'): its map in the header, then in extension blocks while they say more follow. */
static void read_old_sparse(struct input *in, struct entry *e, const unsigned char *header) {
  e->sparse = true;
  e->sparse_size = (uint64_t)numeric(header, 483, 12, "sparse real size");
  old_sparse_slots(e, header, 386, 4);
  for (bool more = header[482] != 0; more;) {
    unsigned char block[BLOCK];
    if (input_read(in, block, BLOCK) != BLOCK) tool_fail(0, "entry %s: unexpected end of data in its sparse map", e->name);
    old_sparse_slots(e, block, 0, 21);
    more = block[504] != 0;
  }
}

static void clear_entry(struct entry *e) {
  free(e->name);
  free(e->linkname);
  for (size_t i = 0; i < e->xattr_count; i++) {
    free(e->xattrs[i].name);
    free(e->xattrs[i].value);
  }
  free(e->xattrs);
  free(e->chunks);
  memset(e, 0, sizeof *e);
}

static enum entry_type type_of(unsigned char flag) {
  switch (flag) {
    case 0:
    case '0':
    case '7':  // contiguous file: a plain file everywhere but on a few old systems
      return ENTRY_FILE;
    case '1': return ENTRY_LINK;
    case '2': return ENTRY_SYMLINK;
    case '3': return ENTRY_CHAR;
    case '4': return ENTRY_BLOCK;
    case '5': return ENTRY_DIRECTORY;
    case '6': return ENTRY_FIFO;
    default: return ENTRY_UNKNOWN;
  }
}

/* Folds the header with what the headers before it said (long names, PAX records) into `e`. */
static void describe(struct input *in, struct entry *e, const unsigned char *header, bool ustar) {
  unsigned char flag = header[156];
  e->name = field_text(header, 0, 100);
  if (ustar && header[345]) {
    char *prefix = field_text(header, 345, 155);
    char *joined = tool_checked(malloc(strlen(prefix) + strlen(e->name) + 2));
    sprintf(joined, "%s/%s", prefix, e->name);
    free(prefix);
    free(e->name);
    e->name = joined;
  }
  e->type = type_of(flag);
  // Old tars mark directories by a trailing '/' on a plain file's name.
  size_t name_length = strlen(e->name);
  if ((flag == 0 || flag == '0') && name_length > 0 && e->name[name_length - 1] == '/') e->type = ENTRY_DIRECTORY;
  e->linkname = header[157] ? field_text(header, 157, 100) : NULL;
  e->mode = (unsigned)(numeric(header, 100, 8, "mode") & 07777);
  e->uid = numeric(header, 108, 8, "uid");
  e->gid = numeric(header, 116, 8, "gid");
  int64_t size = numeric(header, 124, 12, "size");
  e->mtime = (struct timespec){.tv_sec = numeric(header, 136, 12, "mtime")};
  e->devmajor = (unsigned)numeric(header, 329, 8, "devmajor");
  e->devminor = (unsigned)numeric(header, 337, 8, "devminor");
  if (pending.long_name) {
    free(e->name);
    e->name = pending.long_name;
    pending.long_name = NULL;
  }
  if (pending.long_link) {
    free(e->linkname);
    e->linkname = pending.long_link;
    pending.long_link = NULL;
  }
  if (flag == 'S') {
    e->type = ENTRY_FILE;
    read_old_sparse(in, e, header);
  }
  bool has_atime = false;
  for (size_t i = 0; i < pending.record_count; i++) {
    struct record *r = &pending.records[i];
    if (strcmp(r->key, "path") == 0 && r->length > 0) {
      free(e->name);
      e->name = copy_text(r->value, r->length);
    } else if (strcmp(r->key, "linkpath") == 0 && r->length > 0) {
      free(e->linkname);
      e->linkname = copy_text(r->value, r->length);
    } else if (strcmp(r->key, "size") == 0) {
      size = pax_integer(r, "size");
    } else if (strcmp(r->key, "uid") == 0) {
      e->uid = pax_integer(r, "uid");
    } else if (strcmp(r->key, "gid") == 0) {
      e->gid = pax_integer(r, "gid");
    } else if (strcmp(r->key, "mtime") == 0) {
      e->mtime = pax_time(r, "mtime");
    } else if (strcmp(r->key, "atime") == 0) {
      e->atime = pax_time(r, "atime");
      has_atime = true;
    } else if (strncmp(r->key, XATTR_PREFIX, sizeof XATTR_PREFIX - 1) == 0) {
      e->xattrs = tool_checked(reallocarray(e->xattrs, e->xattr_count + 1, sizeof *e->xattrs));
      struct xattr *x = &e->xattrs[e->xattr_count++];
      x->name = tool_checked(strdup(r->key + sizeof XATTR_PREFIX - 1));
      x->value = r->value;
      x->length = r->length;
      r->value = NULL;
    }
  }
  if (!has_atime) e->atime = e->mtime;
  if (size < 0) tool_fail(0, "entry %s: negative size", e->name);
  if (flag != 'S') apply_pax_sparse(e);
  drop_records();
  // A directory has no data, whatever its size field says.
  e->data_left = e->type == ENTRY_DIRECTORY ? 0 : (uint64_t)size;
  e->padding = (unsigned)(padded(e->data_left) - e->data_left);
}

bool entry_next(struct input *in, struct entry *e) {
  clear_entry(e);
  for (;;) {
    unsigned char header[BLOCK];
    size_t got = input_read(in, header, BLOCK);
    if (got == 0 && !pending.long_name && !pending.long_link && !pending.record_count) return false;
    if (got < BLOCK) tool_fail(0, "unexpected end of data: the tar is truncated");
    // Zero blocks end the archive; what may follow them (more zeros) is read as tar too.
    if (is_zero_block(header)) continue;
    check_checksum(header);
    bool ustar = memcmp(header + 257, "ustar\0", 6) == 0;
    bool gnu = memcmp(header + 257, "ustar ", 6) == 0 && memcmp(header + 263, " \0", 2) == 0;
    if (!ustar && !gnu) tool_fail(0, "invalid tar header: unknown format");
    int64_t size = numeric(header, 124, 12, "size");
    switch (header[156]) {
      case 'L':
      case 'N': {
        unsigned char *data = read_meta(in, size, "a GNU long name");
        free(pending.long_name);
        pending.long_name = (char *)data;
        continue;
      }
      case 'K': {
        unsigned char *data = read_meta(in, size, "a GNU long link name");
        free(pending.long_link);
        pending.long_link = (char *)data;
        continue;
      }
      case 'x': {
        unsigned char *data = read_meta(in, size, "a PAX header");
        parse_pax(data, (size_t)size);
        free(data);
        continue;
      }
      case 'g':
        // Global PAX records: nothing in them applies to a layer's files.
        free(read_meta(in, size, "a global PAX header"));
        continue;
    }
    describe(in, e, header, ustar);
    return true;
  }
}

void entry_skip_rest(struct input *in, struct entry *e) {
  if (!input_skip(in, e->data_left + e->padding)) tool_fail(0, "entry %s: unexpected end of data", e->name);
  e->data_left = 0;
  e->padding = 0;
}
