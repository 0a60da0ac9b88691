#define _GNU_SOURCE
#include "untar-write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tool.h"
#include "untar-paths.h"

/* The block size holes are made of: a whole block of zeros is left unwritten. */
#define HOLE_BLOCK 4096

/* mkdir -p with mode 0755 (umask is 0): existing directories, or links to them, are fine. */
static void make_directories(const char *path) {
  if (mkdir(path, 0755) == 0) return;
  int err = errno;
  if (err == ENOENT) {
    char *parent = path_dir(path);
    make_directories(parent);
    free(parent);
    if (mkdir(path, 0755) == 0) return;
    err = errno;
  }
  struct stat st;
  if (err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return;
  tool_fail(err == EEXIST ? ENOTDIR : err, "mkdir %s", path);
}

/* Removes everything in the open directory `fd` (which it closes), never following a link. */
static void empty_directory(int fd, const char *path) {
  DIR *dir = fdopendir(fd);
  if (!dir) tool_fail(errno, "reading directory %s", path);
  for (struct dirent *d; (errno = 0, d = readdir(dir));) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    if (unlinkat(fd, d->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) tool_fail(errno, "removing %s/%s", path, d->d_name);
    int child = openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) tool_fail(errno, "opening %s/%s", path, d->d_name);
    empty_directory(child, path);
    if (unlinkat(fd, d->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) tool_fail(errno, "removing %s/%s", path, d->d_name);
  }
  if (errno) tool_fail(errno, "reading directory %s", path);
  closedir(dir);
}

/* rm -rf: a missing path is fine. */
static void remove_all(const char *path) {
  if (unlink(path) == 0 || errno == ENOENT || errno == ENOTDIR) return;
  if (errno != EISDIR) tool_fail(errno, "removing %s", path);
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) tool_fail(errno, "opening %s", path);
  empty_directory(fd, path);
  if (rmdir(path) != 0 && errno != ENOENT) tool_fail(errno, "removing %s", path);
}

/* Makes room for a new entry at `path`: an existing directory stays when a directory comes. */
static void clear_place_for(const char *path, bool is_directory) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    char *parent = path_dir(path);
    make_directories(parent);
    free(parent);
    return;
  }
  if (!(is_directory && S_ISDIR(st.st_mode))) remove_all(path);
}

static void write_at(int fd, const unsigned char *data, size_t length, uint64_t position, const char *path) {
  while (length > 0) {
    ssize_t n = pwrite(fd, data, length, (off_t)position);
    if (n < 0) {
      if (errno == EINTR) continue;
      tool_fail(errno, "writing %s", path);
    }
    data += n;
    length -= (size_t)n;
    position += (uint64_t)n;
  }
}

static bool all_zero(const unsigned char *data, size_t length) {
  return length == 0 || (data[0] == 0 && memcmp(data, data + 1, length - 1) == 0);
}

/*
 * A regular entry's data, every block-aligned run of zeros left as a hole (as `cp
 * --sparse=auto` does): a sparse file that went through a layer tar as plain data (a commit
 * packs files whole, as Docker's does) is sparse on disk again, and its content is the same.
 */
static void write_with_holes(int fd, struct entry *e, struct input *in, const char *path) {
  uint64_t position = 0;
  while (e->data_left > 0) {
    const unsigned char *data;
    size_t n = input_take(in, e->data_left > SIZE_MAX ? SIZE_MAX : (size_t)e->data_left, &data);
    if (n == 0) tool_fail(0, "entry %s: unexpected end of data", e->name);
    size_t run = SIZE_MAX;
    for (size_t i = 0; i < n;) {
      size_t end = i + HOLE_BLOCK - (size_t)((position + i) % HOLE_BLOCK);
      if (end > n) end = n;
      bool zero = all_zero(data + i, end - i);
      if (zero && run != SIZE_MAX) {
        write_at(fd, data + run, i - run, position + run, path);
        run = SIZE_MAX;
      } else if (!zero && run == SIZE_MAX) {
        run = i;
      }
      i = end;
    }
    if (run != SIZE_MAX) write_at(fd, data + run, n - run, position + run, path);
    position += n;
    e->data_left -= n;
  }
  if (ftruncate(fd, (off_t)position) != 0) tool_fail(errno, "truncating %s", path);
}

/* Copies `size` bytes of the entry's data to `position` of the file. */
static void copy_data(int fd, struct entry *e, struct input *in, uint64_t size, uint64_t position, const char *path) {
  while (size > 0) {
    if (e->data_left == 0) tool_fail(0, "entry %s: sparse data shorter than its map", e->name);
    uint64_t want = size < e->data_left ? size : e->data_left;
    const unsigned char *data;
    size_t n = input_take(in, want > SIZE_MAX ? SIZE_MAX : (size_t)want, &data);
    if (n == 0) tool_fail(0, "entry %s: unexpected end of data", e->name);
    write_at(fd, data, n, position, path);
    e->data_left -= n;
    size -= n;
    position += n;
  }
}

/* One line of a PAX 1.0 sparse map (a decimal number; lines are short). */
static uint64_t map_line(struct entry *e, struct input *in, uint64_t *consumed) {
  char text[24];
  size_t length = 0;
  for (;;) {
    unsigned char byte;
    if (e->data_left == 0 || length > 20 || input_read(in, &byte, 1) != 1) tool_fail(0, "entry %s: truncated or invalid sparse map", e->name);
    e->data_left--;
    ++*consumed;
    if (byte == '\n') break;
    text[length++] = (char)byte;
  }
  return sparse_number(text, length, e->name, "map");
}

/* A PAX 1.0 sparse map: decimal lines (count, then offset and size pairs) padded to a block. */
static void read_inline_map(struct entry *e, struct input *in) {
  uint64_t consumed = 0;
  uint64_t count = map_line(e, in, &consumed);
  for (uint64_t i = 0; i < count; i++) {
    uint64_t offset = map_line(e, in, &consumed);
    uint64_t size = map_line(e, in, &consumed);
    e->chunks = tool_checked(reallocarray(e->chunks, e->chunk_count + 1, sizeof *e->chunks));
    e->chunks[e->chunk_count++] = (struct sparse_chunk){offset, size};
  }
  uint64_t padding = (512 - consumed % 512) % 512;
  if (padding > e->data_left || !input_skip(in, padding)) tool_fail(0, "entry %s: truncated sparse map", e->name);
  e->data_left -= padding;
}

/* GNU sparse data: each chunk at its offset of the map, holes between, then the real size. */
static void write_sparse(int fd, struct entry *e, struct input *in, const char *path) {
  if (e->sparse_inline_map) read_inline_map(e, in);
  uint64_t end = 0;
  for (size_t i = 0; i < e->chunk_count; i++) {
    struct sparse_chunk c = e->chunks[i];
    if (c.offset < end || c.size > e->sparse_size || c.offset > e->sparse_size - c.size)
      tool_fail(0, "entry %s: sparse map overlaps itself or exceeds the file size %llu", e->name, (unsigned long long)e->sparse_size);
    copy_data(fd, e, in, c.size, c.offset, path);
    end = c.offset + c.size;
  }
  if (e->data_left > 0) tool_fail(0, "entry %s: sparse data longer than its map", e->name);
  if (ftruncate(fd, (off_t)e->sparse_size) != 0) tool_fail(errno, "truncating %s", path);
}

static void set_xattrs(int fd, const char *path, const struct entry *e) {
  for (size_t i = 0; i < e->xattr_count; i++) {
    const struct xattr *x = &e->xattrs[i];
    int status = fd >= 0 ? fsetxattr(fd, x->name, x->value, x->length, 0) : lsetxattr(path, x->name, x->value, x->length, 0);
    if (status != 0) tool_fail(errno, "entry %s: setting xattr %s", e->name, x->name);
  }
}

/* Owner, then mode (chown clears set-user-ID bits), xattrs and times of what `fd` has open. */
static void finish_file(int fd, const char *path, const struct entry *e) {
  if (fchown(fd, (uid_t)e->uid, (gid_t)e->gid) != 0) tool_fail(errno, "chown %s", path);
  if (fchmod(fd, e->mode) != 0) tool_fail(errno, "chmod %s", path);
  set_xattrs(fd, path, e);
  struct timespec times[2] = {e->atime, e->mtime};
  if (futimens(fd, times) != 0) tool_fail(errno, "setting the times of %s", path);
}

static void write_file(const char *path, struct entry *e, struct input *in) {
  // O_EXCL|O_NOFOLLOW: clear_place_for removed whatever was there; never write through a link.
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) tool_fail(errno, "entry %s: creating %s", e->name, path);
  if (e->sparse) write_sparse(fd, e, in, path);
  else write_with_holes(fd, e, in, path);
  finish_file(fd, path, e);
  if (close(fd) != 0) tool_fail(errno, "closing %s", path);
}

void write_entry(const char *path, struct entry *e, struct input *in) {
  if (e->type == ENTRY_UNKNOWN) tool_fail(0, "entry %s: unsupported tar entry type (not a POSIX or GNU file type)", e->name);
  bool is_directory = e->type == ENTRY_DIRECTORY;
  if (strcmp(path, "/") != 0) clear_place_for(path, is_directory);
  const char *linkname = e->linkname ? e->linkname : "";
  switch (e->type) {
    case ENTRY_FILE:
      write_file(path, e, in);
      return;
    case ENTRY_DIRECTORY:
      make_directories(path);
      break;
    case ENTRY_SYMLINK:
      if (symlink(linkname, path) != 0) tool_fail(errno, "entry %s: symlink %s -> %s", e->name, path, linkname);
      break;
    case ENTRY_LINK: {
      // The target resolves inside the chroot like any other name; a link to a symlink links the symlink.
      char *target = entry_path(linkname);
      if (link(target, path) != 0) tool_fail(errno, "entry %s: hard link %s -> %s", e->name, path, target);
      free(target);
      return;  // a hard link shares its target's inode: owner, mode and times are the target's
    }
    case ENTRY_CHAR:
    case ENTRY_BLOCK:
    case ENTRY_FIFO: {
      mode_t kind = e->type == ENTRY_CHAR ? S_IFCHR : e->type == ENTRY_BLOCK ? S_IFBLK : S_IFIFO;
      dev_t dev = e->type == ENTRY_FIFO ? 0 : makedev(e->devmajor, e->devminor);
      if (mknod(path, kind, dev) != 0) tool_fail(errno, "entry %s: mknod %s", e->name, path);
      break;
    }
    case ENTRY_UNKNOWN:
      break;
  }
  if (lchown(path, (uid_t)e->uid, (gid_t)e->gid) != 0) tool_fail(errno, "chown %s", path);
  // After chown, which clears set-user-ID bits; symlinks have no mode of their own.
  if (e->type != ENTRY_SYMLINK && fchmodat(AT_FDCWD, path, e->mode, 0) != 0) tool_fail(errno, "chmod %s", path);
  set_xattrs(-1, path, e);
  if (!is_directory) {
    struct timespec times[2] = {e->atime, e->mtime};
    if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) != 0) tool_fail(errno, "setting the times of %s", path);
  }
}

void apply_whiteout(enum whiteout_mode mode, const char *path, const struct entry *e) {
  if (mode == WHITEOUTS_DELETE) {
    remove_all(path);
    return;
  }
  char *parent = path_dir(path);
  make_directories(parent);
  free(parent);
  remove_all(path);
  if (mknod(path, S_IFCHR, makedev(0, 0)) != 0) tool_fail(errno, "entry %s: mknod %s", e->name, path);
  if (lchown(path, (uid_t)e->uid, (gid_t)e->gid) != 0) tool_fail(errno, "chown %s", path);
}

/* Removes what the copied parent brought into `dir`, keeping what this tar wrote. */
static void remove_inherited(const char *dir) {
  DIR *listing = opendir(dir);
  if (!listing) tool_fail(errno, "reading directory %s", dir);
  size_t count = 0;
  char **names = NULL;
  for (struct dirent *d; (errno = 0, d = readdir(listing));) {
    if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
    names = tool_checked(reallocarray(names, count + 1, sizeof *names));
    names[count++] = tool_checked(strdup(d->d_name));
  }
  if (errno) tool_fail(errno, "reading directory %s", dir);
  closedir(listing);
  for (size_t i = 0; i < count; i++) {
    char *path = path_join(dir, names[i]);
    struct stat st;
    if (!was_written(path)) remove_all(path);
    else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) remove_inherited(path);
    free(path);
    free(names[i]);
  }
  free(names);
}

void apply_opaque(enum whiteout_mode mode, const char *dir) {
  make_directories(dir);
  if (mode == WHITEOUTS_DELETE) remove_inherited(dir);
  else if (lsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) != 0) tool_fail(errno, "marking %s opaque", dir);
}

static struct {
  struct directory_times {
    char *path;
    struct timespec atime, mtime;
  } *items;
  size_t count;
} directories;

void defer_directory_times(const char *path, const struct entry *e) {
  directories.items = tool_checked(reallocarray(directories.items, directories.count + 1, sizeof *directories.items));
  directories.items[directories.count++] = (struct directory_times){tool_checked(strdup(path)), e->atime, e->mtime};
}

void set_directory_times(void) {
  for (size_t i = directories.count; i-- > 0;) {
    struct directory_times *d = &directories.items[i];
    struct timespec times[2] = {d->atime, d->mtime};
    if (utimensat(AT_FDCWD, d->path, times, AT_SYMLINK_NOFOLLOW) != 0) tool_fail(errno, "setting the times of %s", d->path);
  }
}
