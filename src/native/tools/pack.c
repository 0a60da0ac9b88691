/*
 * berth-pack: the OCI layer tar of a layer's changes, the confined half of packDiff and of a
 * commit (src/archive/pack.ts).
 *
 *   berth-pack [--blob PATH] TOP < entries > layer.tar
 *
 * `entries` are the layer's changes in tar order, one record each: the kind ('A', 'C' or 'D'),
 * '1' for an opaque directory or '0', the path (absolute in the layer), a NUL byte. The program
 * chroots into TOP (a read-only, nodev bind mount of it: see enter_layer) before it reads a file,
 * so a running container that swaps a directory for a symlink meanwhile cannot make the tar carry
 * a file from outside the layer.
 *
 * The tar is the one writeDiffTar (src/archive/pack-entries.ts) writes for the same tree, byte for
 * byte (see pack-tar.c for the header fields); where that one cannot go, this one goes on as Docker
 * does: a file that shrinks while it is read is padded with zeros (one that grows is cut at the
 * size its header gave), a mode of 0 stays 0, a uid, gid or mtime too big for its field goes in a
 * PAX record, and an mtime is cut to the second (Node rounds it to the millisecond first, which
 * puts a time in the last half millisecond of a second in the next one).
 *
 * With --blob the tar goes to PATH (a new file, made before the chroot) instead, sha256'ed as it
 * is written, flushed to disk as it grows and fdatasync'ed at the end, and stdout gets
 * {"digest":"sha256:HEX","size":N}. Failures: see tool.h.
 */
#define _GNU_SOURCE
#include "pack-tar.h"
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_WHITEOUT ".wh..wh..opq"
/* overlayfs's own bookkeeping, never part of a layer's content. */
#define PRIVATE_XATTR_PREFIX "trusted.overlay."

/* The first name packed of each inode with more than one link: later names become link entries. */
struct link_table {
  struct link_slot {
    dev_t dev;
    ino_t ino;
    char *name;
  } *slots;
  size_t size, used;
};

static size_t link_hash(dev_t dev, ino_t ino, size_t size) {
  uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;
  return (size_t)(h ^ (h >> 29)) & (size - 1);
}

static struct link_slot *link_find(struct link_table *table, dev_t dev, ino_t ino) {
  if (table->size == 0) return NULL;
  for (size_t i = link_hash(dev, ino, table->size);; i = (i + 1) & (table->size - 1)) {
    struct link_slot *slot = &table->slots[i];
    if (!slot->name || (slot->dev == dev && slot->ino == ino)) return slot;
  }
}

static void link_add(struct link_table *table, dev_t dev, ino_t ino, const char *name) {
  if ((table->used + 1) * 2 > table->size) {
    struct link_table grown = {calloc(table->size ? table->size * 2 : 64, sizeof(struct link_slot)), table->size ? table->size * 2 : 64, 0};
    if (!grown.slots) tool_fail(ENOMEM, "hard link table");
    for (size_t i = 0; i < table->size; i++)
      if (table->slots[i].name) *link_find(&grown, table->slots[i].dev, table->slots[i].ino) = table->slots[i];
    grown.used = table->used;
    free(table->slots);
    *table = grown;
  }
  struct link_slot *slot = link_find(table, dev, ino);
  *slot = (struct link_slot){dev, ino, strdup(name)};
  if (!slot->name) tool_fail(ENOMEM, "hard link table");
  table->used++;
}

/* The xattrs of `path` as PAX records, in the order the kernel lists them. */
static void add_xattrs(struct bytes *records, const char *path) {
  char *names = NULL;
  ssize_t listed;
  for (;;) {
    listed = llistxattr(path, NULL, 0);
    if (listed < 0 && (errno == ENOTSUP)) return;
    if (listed < 0) tool_fail(errno, "llistxattr %s", path);
    if (listed == 0) return;
    names = realloc(names, (size_t)listed);
    if (!names) tool_fail(ENOMEM, "llistxattr %s", path);
    ssize_t got = llistxattr(path, names, (size_t)listed);
    if (got >= 0) {
      listed = got;
      break;
    }
    if (errno != ERANGE) tool_fail(errno, "llistxattr %s", path);
  }
  char *value = NULL;
  for (char *name = names; name < names + listed; name += strlen(name) + 1) {
    if (strncmp(name, PRIVATE_XATTR_PREFIX, strlen(PRIVATE_XATTR_PREFIX)) == 0) continue;
    ssize_t size;
    for (;;) {
      size = lgetxattr(path, name, NULL, 0);
      if (size < 0) break;
      value = realloc(value, size ? (size_t)size : 1);
      if (!value) tool_fail(ENOMEM, "lgetxattr %s", path);
      ssize_t got = size == 0 ? 0 : lgetxattr(path, name, value, (size_t)size);
      if (got >= 0) {
        size = got;
        break;
      }
      /* Removed (or failed) between the two calls: the size of the first is no value. */
      if (errno != ERANGE) {
        size = got;
        break;
      }
    }
    if (size < 0) {
      if (errno == ENODATA) continue; /* removed meanwhile */
      tool_fail(errno, "lgetxattr %s %s", path, name);
    }
    pax_record(records, "SCHILY.xattr.", name, value, (size_t)size);
  }
  free(value);
  free(names);
}

struct packer {
  struct tar_out *out;
  struct link_table links;
  time_t now;
  /* Opaque directories packed so far: the deletions under them are implied. */
  char **opaque;
  size_t opaque_count;
};

static int under_opaque(const struct packer *packer, const char *path) {
  for (size_t i = 0; i < packer->opaque_count; i++) {
    size_t len = strlen(packer->opaque[i]);
    if (strncmp(path, packer->opaque[i], len) == 0 && path[len] == '/') return 1;
  }
  return 0;
}

/* An empty marker file (a whiteout), stamped with the time of packing as Docker's are. */
static void add_marker(struct packer *packer, const char *name) {
  struct tar_header header = {.name = name, .mode = 0644, .mtime = packer->now, .type = '0'};
  tar_add(packer->out, &header);
}

static char tar_type(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFDIR: return '5';
  case S_IFLNK: return '2';
  case S_IFCHR: return '3';
  case S_IFBLK: return '4';
  case S_IFIFO: return '6';
  case S_IFREG: return '0';
  }
  tool_fail(0, "%s", "an entry of unknown type cannot go into a tar");
}

/*
 * The file read is the one lstat'ed: a running container may swap it meanwhile (O_NONBLOCK keeps
 * a FIFO put in its place from hanging us; a device node cannot be opened at all, see
 * enter_layer).
 */
static void add_file(struct packer *packer, struct tar_header *header, const char *path, const struct stat *st) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) tool_fail(errno, "open %s", path);
  struct stat opened;
  if (fstat(fd, &opened) != 0) tool_fail(errno, "fstat %s", path);
  if (opened.st_ino != st->st_ino || opened.st_dev != st->st_dev) tool_fail(0, "%s changed while it was packed", path);
  tar_add(packer->out, header);
  if (header->size > 0) {
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    tar_add_data(packer->out, fd, header->size, path);
  }
  close(fd);
}

static void add_path(struct packer *packer, const char *path, const char *name) {
  struct stat st;
  if (lstat(path, &st) != 0) tool_fail(errno, "lstat %s", path);
  if (S_ISSOCK(st.st_mode)) return; /* a running program's endpoint, not content */
  size_t name_len = strlen(name);
  char *full_name = malloc(name_len + 2);
  if (!full_name) tool_fail(ENOMEM, "%s", path);
  memcpy(full_name, name, name_len + 1);
  if (S_ISDIR(st.st_mode) && (name_len == 0 || name[name_len - 1] != '/')) strcpy(full_name + name_len, "/");

  struct bytes xattrs = {0};
  add_xattrs(&xattrs, path);
  struct tar_header header = {
    .name = full_name,
    .mode = st.st_mode & 07777,
    .uid = st.st_uid,
    .gid = st.st_gid,
    .mtime = st.st_mtim.tv_sec,
    .size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
    .type = tar_type(st.st_mode),
    .xattrs = &xattrs,
  };
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    header.devmajor = major(st.st_rdev);
    header.devminor = minor(st.st_rdev);
  }
  char *target = NULL;
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    struct link_slot *first = link_find(&packer->links, st.st_dev, st.st_ino);
    if (first && first->name) {
      header.type = '1';
      header.linkname = first->name;
      header.size = 0;
      tar_add(packer->out, &header);
      goto done;
    }
    link_add(&packer->links, st.st_dev, st.st_ino, full_name);
  }
  if (S_ISLNK(st.st_mode)) {
    size_t cap = (size_t)st.st_size + 1 > 256 ? (size_t)st.st_size + 1 : 256;
    for (;;) {
      target = realloc(target, cap);
      if (!target) tool_fail(ENOMEM, "readlink %s", path);
      ssize_t len = readlink(path, target, cap);
      if (len < 0) tool_fail(errno, "readlink %s", path);
      if ((size_t)len < cap) {
        target[len] = '\0';
        break;
      }
      cap *= 2;
    }
    header.linkname = target;
  }
  if (S_ISREG(st.st_mode)) add_file(packer, &header, path, &st);
  else tar_add(packer->out, &header);
done:
  free(target);
  free(xattrs.data);
  free(full_name);
}

/* posix.join(dirname(name), prefix + basename(name)) for a clean relative name. */
static char *whiteout_name(const char *name) {
  const char *slash = strrchr(name, '/');
  size_t dir_len = slash ? (size_t)(slash - name + 1) : 0;
  char *out = malloc(strlen(name) + sizeof WHITEOUT_PREFIX);
  if (!out) tool_fail(ENOMEM, "%s", name);
  memcpy(out, name, dir_len);
  strcpy(out + dir_len, WHITEOUT_PREFIX);
  strcat(out, name + dir_len);
  return out;
}

static void pack_entry(struct packer *packer, char kind, int opaque, const char *path) {
  if (path[0] != '/') tool_fail(0, "entry path %s is not absolute", path);
  const char *name = path + 1;
  if (kind == 'D') {
    if (under_opaque(packer, path)) return;
    char *whiteout = whiteout_name(name);
    add_marker(packer, whiteout);
    free(whiteout);
    return;
  }
  if (kind != 'A' && kind != 'C') tool_fail(0, "entry kind %c is none of A, C, D", kind);
  add_path(packer, path, name);
  if (opaque) {
    packer->opaque = realloc(packer->opaque, (packer->opaque_count + 1) * sizeof *packer->opaque);
    if (!packer->opaque) tool_fail(ENOMEM, "%s", path);
    packer->opaque[packer->opaque_count++] = (char *)path;
    char *marker = malloc(strlen(name) + sizeof OPAQUE_WHITEOUT + 1);
    if (!marker) tool_fail(ENOMEM, "%s", path);
    sprintf(marker, "%s/%s", name, OPAQUE_WHITEOUT);
    add_marker(packer, marker);
    free(marker);
  }
}

/*
 * Chroots into a read-only, nodev view of `top`, in a mount namespace of our own. A container
 * may make device nodes (Docker's default capabilities include CAP_MKNOD) and swap one in for a
 * file between its lstat and its open: opening /dev/watchdog's node would arm the host's
 * watchdog, a tape's would rewind it. On a nodev mount that open fails (EACCES) before any
 * driver sees it; lstat still reports device nodes for their headers.
 */
static void enter_layer(const char *top) {
  if (unshare(CLONE_NEWNS) != 0) tool_fail(errno, "%s", "unshare CLONE_NEWNS");
  /* Our mounts must not propagate back into berthd's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) tool_fail(errno, "%s", "making / private");
  if (mount(top, top, NULL, MS_BIND | MS_REC, NULL) != 0) tool_fail(errno, "bind mounting %s", top);
  if (mount(NULL, top, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC, NULL) != 0)
    tool_fail(errno, "remounting %s nodev", top);
  tool_enter_root(top);
}

/* All of stdin: the entries are few next to the files they name. */
static char *read_entries(size_t *len) {
  size_t cap = 1 << 16, used = 0;
  char *data = malloc(cap);
  for (;;) {
    if (!data) tool_fail(ENOMEM, "reading the entries");
    size_t got = tool_read_full(0, data + used, cap - used, "the entries");
    used += got;
    if (used < cap) break;
    cap *= 2;
    data = realloc(data, cap);
  }
  *len = used;
  return data;
}

int main(int argc, char **argv) {
  const char *blob = NULL;
  if (argc == 4 && strcmp(argv[1], "--blob") == 0) blob = argv[2];
  else if (argc != 2) tool_fail(0, "%s", "usage: berth-pack [--blob PATH] TOP < entries");
  const char *top = argv[argc - 1];
  /* A daemon killed mid-commit takes its packer along: the packer must not make its blob file in
   * an ingest folder the next daemon has already swept. */
  tool_die_with_daemon();

  size_t len;
  char *entries = read_entries(&len);
  if (len > 0 && entries[len - 1] != '\0') tool_fail(0, "%s", "the entries do not end with a NUL byte");
  int fd = 1;
  if (blob) {
    fd = open(blob, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) tool_fail(errno, "creating %s", blob);
  }
  enter_layer(top);

  struct packer packer = {.out = tar_out_open(fd, blob != NULL), .now = time(NULL)};
  for (char *record = entries; record < entries + len; record += strlen(record) + 1) {
    if (strlen(record) < 3) tool_fail(0, "%s", "an entry record is too short");
    pack_entry(&packer, record[0], record[1] == '1', record + 2);
  }
  struct tar_result result = tar_out_finish(packer.out);
  if (blob) {
    char line[128];
    int n = snprintf(line, sizeof line, "{\"digest\":\"sha256:%s\",\"size\":%" PRIu64 "}\n", result.digest_hex, result.size);
    tool_write_all(1, line, (size_t)n, "the result");
  }
  return 0;
}
