#define _GNU_SOURCE
#include "untar-paths.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

char *entry_path(const char *name) {
  size_t length = strlen(name);
  char *path = tool_checked(malloc(length + 2));
  size_t used = 0;
  for (const char *p = name; *p;) {
    while (*p == '/') p++;
    const char *end = strchrnul(p, '/');
    size_t part = (size_t)(end - p);
    if (part == 0 || (part == 1 && p[0] == '.')) {
      // empty or '.': nothing
    } else if (part == 2 && p[0] == '.' && p[1] == '.') {
      while (used > 0 && path[used - 1] != '/') used--;
      if (used > 0) used--;  // the '/' before the dropped component; at the root nothing to drop
    } else {
      path[used++] = '/';
      memcpy(path + used, p, part);
      used += part;
    }
    p = end;
  }
  if (used == 0) path[used++] = '/';
  path[used] = 0;
  return path;
}

const char *path_base(const char *path) {
  return strrchr(path, '/') + 1;
}

char *path_dir(const char *path) {
  size_t length = (size_t)(strrchr(path, '/') - path);
  return length == 0 ? tool_checked(strdup("/")) : tool_checked(strndup(path, length));
}

char *path_join(const char *dir, const char *name) {
  if (strcmp(dir, "/") == 0) dir = "";
  char *path = tool_checked(malloc(strlen(dir) + strlen(name) + 2));
  sprintf(path, "%s/%s", dir, name);
  return path;
}

/*
 * Whether walking `first` then `second` (relative names, '/'-separated; `first` may be NULL)
 * ever goes above where it started: what posix.normalize turns into a path starting with '..'.
 * `skip_last` drops the last component of `first` (the symlink's own name: its directory counts).
 */
static bool climbs(const char *first, bool skip_last, const char *second) {
  long depth = 0;
  const char *parts[2] = {first, second};
  for (int which = 0; which < 2; which++) {
    const char *p = parts[which];
    if (!p) continue;
    const char *last = NULL;
    if (which == 0 && skip_last) {
      // The start of the last non-empty component.
      const char *end = p + strlen(p);
      while (end > p && end[-1] == '/') end--;
      last = end;
      while (last > p && last[-1] != '/') last--;
    }
    while (*p) {
      while (*p == '/') p++;
      if (!*p || p == last) break;
      const char *end = strchrnul(p, '/');
      size_t part = (size_t)(end - p);
      if (part == 2 && p[0] == '.' && p[1] == '.') {
        if (--depth < 0) return true;
      } else if (!(part == 1 && p[0] == '.')) {
        depth++;
      }
      p = end;
    }
  }
  return false;
}

char *quoted(const char *text) {
  size_t length = strlen(text);
  char *out = tool_checked(malloc(length * 6 + 3));
  char *o = out;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    switch (*p) {
      case '"': o += sprintf(o, "\\\""); break;
      case '\\': o += sprintf(o, "\\\\"); break;
      case '\b': o += sprintf(o, "\\b"); break;
      case '\f': o += sprintf(o, "\\f"); break;
      case '\n': o += sprintf(o, "\\n"); break;
      case '\r': o += sprintf(o, "\\r"); break;
      case '\t': o += sprintf(o, "\\t"); break;
      default:
        if (*p < 0x20) o += sprintf(o, "\\u%04x", *p);
        else *o++ = (char)*p;
    }
  }
  *o++ = '"';
  *o = 0;
  return out;
}

void refuse_breakout(const struct entry *e) {
  const char *name = e->name;
  while (*name == '/') name++;
  if (climbs(name, false, NULL)) {
    char *q = quoted(e->name);
    tool_fail(0, "entry %s: %s is outside of the layer", e->name, q);
  }
  const char *target = e->linkname ? e->linkname : "";
  if (e->type == ENTRY_LINK) {
    const char *relative = target;
    while (*relative == '/') relative++;
    if (climbs(relative, false, NULL)) {
      char *q = quoted(e->name), *t = quoted(target);
      tool_fail(0, "entry %s: invalid hardlink %s -> %s", e->name, q, t);
    }
  }
  if (e->type == ENTRY_SYMLINK && target[0] != '/' && climbs(name, true, target)) {
    char *q = quoted(e->name), *t = quoted(target);
    tool_fail(0, "entry %s: invalid symlink %s -> %s", e->name, q, t);
  }
}

void refuse_whiteout_in_path(const char *name, const char *path) {
  const char *base = path_base(path);
  for (const char *p = path + 1; p < base; p = strchr(p, '/') + 1)
    if (strncmp(p, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0)
      tool_fail(0, "entry %s: a whiteout name (" WHITEOUT_PREFIX "…) can only be the last component of a path", name);
  if (strcmp(base, WHITEOUT_PREFIX) == 0) tool_fail(0, "entry %s: whiteout without a name", name);
  if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
    const char *hidden = base + strlen(WHITEOUT_PREFIX);
    if (strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0) tool_fail(0, "entry %s: a whiteout cannot hide '%s'", name, hidden);
  }
}

/* An open-addressing set of strings, grown at half full. */
static struct {
  char **slots;
  size_t capacity, count;
} written;

static uint64_t hash(const char *text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return h;
}

static char **slot_of(char **slots, size_t capacity, const char *path) {
  size_t i = hash(path) & (capacity - 1);
  while (slots[i] && strcmp(slots[i], path) != 0) i = (i + 1) & (capacity - 1);
  return &slots[i];
}

bool was_written(const char *path) {
  return written.capacity && *slot_of(written.slots, written.capacity, path);
}

static void add_written(const char *path) {
  if (2 * (written.count + 1) > written.capacity) {
    size_t capacity = written.capacity ? written.capacity * 2 : 1024;
    char **slots = tool_checked(calloc(capacity, sizeof *slots));
    for (size_t i = 0; i < written.capacity; i++)
      if (written.slots[i]) *slot_of(slots, capacity, written.slots[i]) = written.slots[i];
    free(written.slots);
    written.slots = slots;
    written.capacity = capacity;
  }
  *slot_of(written.slots, written.capacity, path) = tool_checked(strdup(path));
  written.count++;
}

void mark_written(const char *path) {
  char *p = tool_checked(strdup(path));
  while (strcmp(p, "/") != 0 && !was_written(p)) {
    add_written(p);
    *strrchr(p, '/') = 0;
    if (!*p) break;
  }
  free(p);
}
