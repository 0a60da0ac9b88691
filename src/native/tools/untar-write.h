/*
 * Writing a layer's entries under '/' (berth-untar runs chrooted into the layer, so every name
 * and every symlink, including one the tar itself made, resolves inside it), and carrying out
 * whiteouts in the form the storage driver wants.
 */
#ifndef BERTH_UNTAR_WRITE_H
#define BERTH_UNTAR_WRITE_H

#include <stdbool.h>

#include "untar-entry.h"
#include "untar-input.h"

/*
 * - overlay: keep whiteouts in overlayfs's form (a 0/0 character device owned as the whiteout
 *   entry; trusted.overlay.opaque=y on an opaque directory), for a layer mounted over its parents;
 * - delete: carry them out, for a layer that starts as a full copy of its parent (vfs).
 */
enum whiteout_mode { WHITEOUTS_OVERLAY, WHITEOUTS_DELETE };

/* Writes the entry at `path` (an entry_path), reading its data from `in`. */
void write_entry(const char *path, struct entry *e, struct input *in);

/* `path` is the hidden entry's path (the whiteout name without its prefix). */
void apply_whiteout(enum whiteout_mode mode, const char *path, const struct entry *e);

/* `dir` is the directory whose lower contents are hidden. */
void apply_opaque(enum whiteout_mode mode, const char *dir);

/* Directories get their times after everything under them is written. */
void defer_directory_times(const char *path, const struct entry *e);
void set_directory_times(void);

#endif
