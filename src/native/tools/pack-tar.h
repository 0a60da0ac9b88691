/*
 * Writing a tar the way tar-stream's pack and berthd's TarRewriter write it (src/archive/
 * pack-entries.ts), so that berth-pack's layers are byte for byte those of writeDiffTar: ustar
 * headers; a PAX header named "PaxHeader" when the entry has xattrs or its name or link target
 * does not fit ustar's fields (then the entry's own header is named "PaxHeader" too); the output
 * buffered in 1 MiB pieces, optionally sha256'ed and flushed to disk as it goes.
 */
#ifndef BERTH_PACK_TAR_H
#define BERTH_PACK_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A growable byte buffer. */
struct bytes {
  char *data;
  size_t len, cap;
};

void bytes_append(struct bytes *bytes, const void *data, size_t len);

/* Appends the PAX record "LEN KEY_PREFIX KEY=VALUE\n" (VALUE raw bytes) to `records`. */
void pax_record(struct bytes *records, const char *key_prefix, const char *key, const void *value, size_t value_len);

struct tar_header {
  const char *name;
  const char *linkname; /* NULL for none */
  uint32_t mode, uid, gid;
  uint32_t devmajor, devminor;
  int64_t mtime;
  uint64_t size;
  char type; /* '0' file, '1' link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo */
  const struct bytes *xattrs; /* PAX records of the entry's xattrs, or NULL */
};

struct tar_out;

/* Output to `fd`; a `blob` is sha256'ed and written back to disk as it grows. */
struct tar_out *tar_out_open(int fd, int blob);

/* Writes an entry's header(s); a regular file's data follows with tar_add_data. */
void tar_add(struct tar_out *out, const struct tar_header *header);

/* `size` bytes of the file `fd` from its start, zeros for any it no longer has, then padding. */
void tar_add_data(struct tar_out *out, int fd, uint64_t size, const char *path);

struct tar_result {
  uint64_t size;
  char digest_hex[65]; /* of a blob */
};

/* Ends the tar (two zero blocks), flushes it, and for a blob fdatasyncs it. */
struct tar_result tar_out_finish(struct tar_out *out);

#endif
