/*
 * The names of a layer's entries: where inside the root an entry lands, the entries a layer tar
 * may not hold (names that climb out of the layer, whiteout names inside a path), and the set of
 * paths the tar wrote (an opaque directory in 'delete' mode keeps those).
 */
#ifndef BERTH_UNTAR_PATHS_H
#define BERTH_UNTAR_PATHS_H

#include <stdbool.h>

#include "untar-entry.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_WHITEOUT ".wh..wh..opq"

/*
 * The absolute path inside the root that a name (or hard link target) refers to: leading '/',
 * '.' and '..' components that climb above the root dropped as a path walk from '/' would; no
 * trailing '/' except for the root itself. Caller frees.
 */
char *entry_path(const char *name);

/* The last component of an entry path ("" for the root), and its directory (caller frees). */
const char *path_base(const char *path);
char *path_dir(const char *path);

/* `name` (one component) in the directory `dir` (an entry path); caller frees. */
char *path_join(const char *dir, const char *name);

/*
 * Refuses (fails with Docker's messages) an entry whose name, hard link target or relative
 * symlink target climbs out of the layer with '..', and whiteout names anywhere but as the last
 * component, without a name, or hiding '.' or '..'. Nothing is changed for the entry before.
 */
void refuse_breakout(const struct entry *e);
void refuse_whiteout_in_path(const char *name, const char *path);

/* The paths this tar wrote, with their ancestors. */
void mark_written(const char *path);
bool was_written(const char *path);

/* `text` as a JSON string (as the messages quote names); caller frees. */
char *quoted(const char *text);

#endif
