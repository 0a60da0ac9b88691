#define _GNU_SOURCE
#include "pack-tar.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 512
/* The output goes out in pieces this big: one write (and one hash update) each. */
#define OUT_BYTES (1024 * 1024)
/* A blob's disk writeback is started every this many bytes, so the final fdatasync waits only for the tail. */
#define WRITEBACK_BYTES (16 * 1024 * 1024)
/* What a ustar octal field of 6 digits holds: a bigger uid or gid goes in a PAX record. */
#define MAX_OCTAL_6 0777777u
#define MAX_OCTAL_11 077777777777ll

void bytes_append(struct bytes *bytes, const void *data, size_t len) {
  if (bytes->len + len > bytes->cap) {
    size_t cap = bytes->cap ? bytes->cap : 256;
    while (cap < bytes->len + len) cap *= 2;
    bytes->data = realloc(bytes->data, cap);
    if (!bytes->data) tool_fail(ENOMEM, "%s", "PAX records");
    bytes->cap = cap;
  }
  memcpy(bytes->data + bytes->len, data, len);
  bytes->len += len;
}

static size_t decimal_digits(size_t n) {
  size_t digits = 1;
  while (n >= 10) n /= 10, digits++;
  return digits;
}

void pax_record(struct bytes *records, const char *key_prefix, const char *key, const void *value, size_t value_len) {
  /* " KEY=VALUE\n" and the length of the whole record, its own digits included. */
  size_t body = 1 + strlen(key_prefix) + strlen(key) + 1 + value_len + 1;
  size_t digits = decimal_digits(body);
  size_t pow = 1;
  for (size_t i = 0; i < digits; i++) pow *= 10;
  if (body + digits >= pow) digits++;
  char length[32];
  int n = snprintf(length, sizeof length, "%zu ", body + digits);
  bytes_append(records, length, (size_t)n);
  bytes_append(records, key_prefix, strlen(key_prefix));
  bytes_append(records, key, strlen(key));
  bytes_append(records, "=", 1);
  bytes_append(records, value, value_len);
  bytes_append(records, "\n", 1);
}

static void pax_number(struct bytes *records, const char *key, int64_t value) {
  char text[32];
  int n = snprintf(text, sizeof text, "%" PRId64, value);
  pax_record(records, "", key, text, (size_t)n);
}

struct tar_out {
  int fd;
  int blob;
  char *buf;
  size_t used;
  uint64_t total, synced;
  EVP_MD_CTX *sha;
};

struct tar_out *tar_out_open(int fd, int blob) {
  struct tar_out *out = calloc(1, sizeof *out);
  if (!out || !(out->buf = malloc(OUT_BYTES))) tool_fail(ENOMEM, "%s", "output buffer");
  out->fd = fd;
  out->blob = blob;
  if (blob) {
    out->sha = EVP_MD_CTX_new();
    if (!out->sha || EVP_DigestInit_ex(out->sha, EVP_sha256(), NULL) != 1) tool_fail(0, "%s", "sha256 unavailable");
  }
  return out;
}

static void out_flush(struct tar_out *out) {
  if (out->used == 0) return;
  if (out->blob && EVP_DigestUpdate(out->sha, out->buf, out->used) != 1) tool_fail(0, "%s", "sha256 failed");
  tool_write_all(out->fd, out->buf, out->used, out->blob ? "the blob" : "the tar");
  out->total += out->used;
  out->used = 0;
  if (out->blob && out->total - out->synced >= WRITEBACK_BYTES) {
    /* Only a head start: fdatasync at the end reports the disk's failures. */
    sync_file_range(out->fd, (off_t)out->synced, (off_t)(out->total - out->synced), SYNC_FILE_RANGE_WRITE);
    out->synced = out->total;
  }
}

static void out_write(struct tar_out *out, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    if (out->used == OUT_BYTES) out_flush(out);
    size_t n = OUT_BYTES - out->used < len ? OUT_BYTES - out->used : len;
    memcpy(out->buf + out->used, p, n);
    out->used += n;
    p += n;
    len -= n;
  }
}

static void out_zeros(struct tar_out *out, uint64_t len) {
  while (len > 0) {
    if (out->used == OUT_BYTES) out_flush(out);
    size_t n = OUT_BYTES - out->used < len ? OUT_BYTES - out->used : (size_t)len;
    memset(out->buf + out->used, 0, n);
    out->used += n;
    len -= n;
  }
}

static void out_pad(struct tar_out *out, uint64_t size) {
  if (size % BLOCK) out_zeros(out, BLOCK - size % BLOCK);
}

/* tar-stream's encodeOct: `digits` octal digits and a space; all sevens when the value needs more. */
static void octal(char *field, int digits, uint64_t value) {
  char text[32];
  int n = snprintf(text, sizeof text, "%" PRIo64, value);
  if (n > digits) memset(field, '7', (size_t)digits);
  else {
    memset(field, '0', (size_t)(digits - n));
    memcpy(field + digits - n, text, (size_t)n);
  }
  field[digits] = ' ';
}

static unsigned checksum(const unsigned char *block) {
  unsigned sum = 0;
  for (int i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? ' ' : block[i];
  return sum;
}

/* A ustar header block as tar-stream's headers.encode writes it. */
static void encode(unsigned char *block, const char *name, size_t name_len, const char *prefix, size_t prefix_len,
                   const struct tar_header *header, char type, uint64_t size, const char *linkname) {
  memset(block, 0, BLOCK);
  char *b = (char *)block;
  memcpy(b, name, name_len);
  octal(b + 100, 6, header->mode & 07777);
  octal(b + 108, 6, header->uid);
  octal(b + 116, 6, header->gid);
  if (size > (uint64_t)MAX_OCTAL_11) {
    /* GNU's base-256: what tar-stream writes for 8 GiB and more. */
    block[124] = 0x80;
    for (int i = 11; i > 0; i--, size >>= 8) block[124 + i] = size & 0xff;
  } else octal(b + 124, 11, size);
  octal(b + 136, 11, header->mtime < 0 || header->mtime > MAX_OCTAL_11 ? 0 : (uint64_t)header->mtime);
  b[156] = type;
  if (linkname) memcpy(b + 157, linkname, strlen(linkname));
  memcpy(b + 257, "ustar\0" "00", 8);
  octal(b + 329, 6, header->devmajor);
  octal(b + 337, 6, header->devminor);
  memcpy(b + 345, prefix, prefix_len);
  octal(b + 148, 6, checksum(block));
  b[155] = '\0';
}

/*
 * Whether `name` fits ustar's fields as tar-stream splits it: ASCII only, the part after the
 * first slashes that leave at most 100 bytes in `name`, what is before them in `prefix` (155).
 */
static int ustar_name(const char *full, const char **name, char *prefix, size_t *prefix_len) {
  for (const unsigned char *p = (const unsigned char *)full; *p; p++)
    if (*p >= 0x80) return 0;
  *name = full;
  *prefix_len = 0;
  while (strlen(*name) > 100) {
    const char *slash = strchr(*name, '/');
    if (!slash) return 0;
    size_t seg = (size_t)(slash - *name);
    if ((*prefix_len ? *prefix_len + 1 : 0) + seg > 155) return 0;
    if (*prefix_len) prefix[(*prefix_len)++] = '/';
    memcpy(prefix + *prefix_len, *name, seg);
    *prefix_len += seg;
    *name = slash + 1;
  }
  return 1;
}

void tar_add(struct tar_out *out, const struct tar_header *header) {
  unsigned char block[BLOCK];
  int has_link = header->linkname && header->linkname[0];
  const char *linkname = has_link ? header->linkname : NULL;
  int big_ids = header->uid > MAX_OCTAL_6 || header->gid > MAX_OCTAL_6;
  int odd_time = header->mtime < 0 || header->mtime > MAX_OCTAL_11;
  size_t xattrs_len = header->xattrs ? header->xattrs->len : 0;
  const char *name;
  char prefix[160];
  size_t prefix_len;
  if (!xattrs_len && !big_ids && !odd_time && ustar_name(header->name, &name, prefix, &prefix_len) &&
      (!linkname || strlen(linkname) <= 100)) {
    encode(block, name, strlen(name), prefix, prefix_len, header, header->type, header->size, linkname);
    out_write(out, block, BLOCK);
    return;
  }
  struct bytes records = {0};
  pax_record(&records, "", "path", header->name, strlen(header->name));
  if (linkname) pax_record(&records, "", "linkpath", linkname, strlen(linkname));
  if (header->uid > MAX_OCTAL_6) pax_number(&records, "uid", header->uid);
  if (header->gid > MAX_OCTAL_6) pax_number(&records, "gid", header->gid);
  if (odd_time) pax_number(&records, "mtime", header->mtime);
  if (xattrs_len) bytes_append(&records, header->xattrs->data, header->xattrs->len);
  const char *pax_link = linkname ? "PaxHeader" : NULL;
  encode(block, "PaxHeader", 9, "", 0, header, 'x', records.len, pax_link);
  /* As TarRewriter leaves a PAX header it has passed (the records' size, then the checksum). */
  snprintf((char *)block + 124, 12, "%011zo", records.len);
  char sum[8];
  snprintf(sum, sizeof sum, "%06o", checksum(block));
  memcpy(block + 148, sum, 6);
  block[154] = '\0';
  block[155] = ' ';
  out_write(out, block, BLOCK);
  out_write(out, records.data, records.len);
  out_pad(out, records.len);
  free(records.data);
  encode(block, "PaxHeader", 9, "", 0, header, header->type, header->size, pax_link);
  out_write(out, block, BLOCK);
}

void tar_add_data(struct tar_out *out, int fd, uint64_t size, const char *path) {
  uint64_t left = size;
  while (left > 0) {
    if (out->used == OUT_BYTES) out_flush(out);
    size_t want = OUT_BYTES - out->used < left ? OUT_BYTES - out->used : (size_t)left;
    ssize_t n = read(fd, out->buf + out->used, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      tool_fail(errno, "reading %s", path);
    }
    if (n == 0) break; /* shrunk while read: the zeros below keep the entry its size */
    out->used += (size_t)n;
    left -= (uint64_t)n;
  }
  out_zeros(out, left);
  out_pad(out, size);
}

struct tar_result tar_out_finish(struct tar_out *out) {
  struct tar_result result = {0};
  out_zeros(out, 2 * BLOCK);
  out_flush(out);
  result.size = out->total;
  if (out->blob) {
    unsigned char digest[32];
    if (EVP_DigestFinal_ex(out->sha, digest, NULL) != 1) tool_fail(0, "%s", "sha256 failed");
    for (int i = 0; i < 32; i++) snprintf(result.digest_hex + 2 * i, 3, "%02x", digest[i]);
    if (fdatasync(out->fd) != 0) tool_fail(errno, "%s", "fdatasync of the blob");
    if (close(out->fd) != 0) tool_fail(errno, "%s", "closing the blob");
  }
  return result;
}
