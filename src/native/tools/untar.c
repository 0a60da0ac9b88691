/*
 * berth-untar: unpacks an image layer's tar into a layer directory.
 *
 *   berth-untar DEST overlay|delete [--gzip] [--digest] [--follow] < layer.tar
 *
 * It chroots into DEST before it reads a byte, so no name, '..' or symlink in the tar can reach
 * outside it; the names are still checked the way Docker's layer extraction checks them (see
 * untar-paths.h), and whiteouts are kept or carried out per the mode (see untar-write.h).
 * --gzip: the input is gzip-compressed (berthd sniffed it). --digest: hash the uncompressed tar.
 * --follow: stdin is a file berthd is still writing (a blob being stored), read as it grows: on
 * descriptor 3 berthd writes '+' after each write and 'E' once the file is whole; 3 closing
 * without 'E' fails the layer. The unpack then ends about when the blob is stored.
 * On success it writes one JSON line to stdout: {"size": bytes of the uncompressed tar,
 * "diffId": "sha256:…" with --digest}. On failure: see tool.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "untar-entry.h"
#include "untar-input.h"
#include "untar-paths.h"
#include "untar-write.h"

static const char USAGE[] = "usage: berth-untar DEST overlay|delete [--gzip] [--digest] [--follow] < layer.tar";

int main(int argc, char **argv) {
  if (argc < 3) tool_fail(0, "%s", USAGE);
  enum whiteout_mode mode;
  if (strcmp(argv[2], "overlay") == 0) mode = WHITEOUTS_OVERLAY;
  else if (strcmp(argv[2], "delete") == 0) mode = WHITEOUTS_DELETE;
  else tool_fail(0, "%s", USAGE);
  bool gzip = false, digest = false, follow = false;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--gzip") == 0) gzip = true;
    else if (strcmp(argv[i], "--digest") == 0) digest = true;
    else if (strcmp(argv[i], "--follow") == 0) follow = true;
    else tool_fail(0, "%s", USAGE);
  }
  tool_enter_root(argv[1]);

  struct input *in = input_open(STDIN_FILENO, gzip, digest, follow);
  struct entry e = {0};
  while (entry_next(in, &e)) {
    char *path = entry_path(e.name);
    refuse_whiteout_in_path(e.name, path);
    refuse_breakout(&e);
    const char *base = path_base(path);
    char *dir = path_dir(path);
    if (strcmp(base, OPAQUE_WHITEOUT) == 0) {
      apply_opaque(mode, dir);
    } else if (strncmp(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX)) == 0) {
      char *target = path_join(dir, base + strlen(WHITEOUT_PREFIX));
      apply_whiteout(mode, target, &e);
      free(target);
    } else {
      write_entry(path, &e, in);
      mark_written(path);
      if (e.type == ENTRY_DIRECTORY) defer_directory_times(path, &e);
    }
    entry_skip_rest(in, &e);
    free(dir);
    free(path);
  }
  set_directory_times();

  char diff_id[72] = "";
  unsigned long long size = input_finish(in, diff_id);
  char line[160];
  int length = digest ? snprintf(line, sizeof line, "{\"size\":%llu,\"diffId\":\"%s\"}\n", size, diff_id)
                      : snprintf(line, sizeof line, "{\"size\":%llu}\n", size);
  tool_write_all(STDOUT_FILENO, line, (size_t)length, "the result");
  return 0;
}
