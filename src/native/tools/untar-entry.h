/*
 * Reading a tar's entries: ustar, GNU and PAX headers folded into one description per entry
 * (GNU long names and links, PAX path/linkpath/size/uid/gid/mtime/atime and SCHILY.xattr.*
 * records with their raw values, GNU base-256 numbers), and GNU's sparse files in the forms that
 * carry their map (old GNU 'S' headers with extension blocks, PAX 0.1 and 1.0). Every header's
 * checksum is checked; a corrupt or truncated tar is a failure.
 */
#ifndef BERTH_UNTAR_ENTRY_H
#define BERTH_UNTAR_ENTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "untar-input.h"

enum entry_type { ENTRY_FILE, ENTRY_LINK, ENTRY_SYMLINK, ENTRY_CHAR, ENTRY_BLOCK, ENTRY_DIRECTORY, ENTRY_FIFO, ENTRY_UNKNOWN };

struct xattr {
  char *name;
  unsigned char *value;
  size_t length;
};

struct sparse_chunk {
  uint64_t offset, size;
};

struct entry {
  char *name;
  char *linkname;
  enum entry_type type;
  unsigned mode;
  int64_t uid, gid;
  struct timespec mtime, atime;
  unsigned devmajor, devminor;
  struct xattr *xattrs;
  size_t xattr_count;
  /* Bytes of this entry's data in the tar not read yet (its padding comes after). */
  uint64_t data_left;
  /* The padding after the data, up to the next 512-byte block. */
  unsigned padding;
  /* A GNU sparse file: the real size, and the map unless it leads the data (PAX 1.0). */
  bool sparse;
  bool sparse_inline_map;
  uint64_t sparse_size;
  struct sparse_chunk *chunks;
  size_t chunk_count;
};

/* The next entry into `e` (whose previous contents it frees); false at the end of the tar. */
bool entry_next(struct input *in, struct entry *e);

/* Reads and drops what is left of the entry's data and its padding. */
void entry_skip_rest(struct input *in, struct entry *e);

/* The decimal number of a sparse map field, as GNU tar writes it; fails naming `what`. */
uint64_t sparse_number(const char *text, size_t length, const char *name, const char *what);

#endif
