/*
 * berth-untar: unpacks an image layer's tar into a layer directory.
 *
 *   berth-untar DEST overlay|delete [--gzip] [--digest] [--blob PATH [--socket SIZE STALL_MS] | --follow] < layer.tar
 *
 * It chroots into DEST before it reads a byte, so no name, '..' or symlink in the tar can reach
 * outside it; the names are still checked the way Docker's layer extraction checks them (see
 * untar-paths.h), and whiteouts are kept or carried out per the mode (see untar-write.h).
 * --gzip: the input is gzip-compressed (berthd sniffed it). --digest: hash the uncompressed tar.
 * --blob PATH: the input is a blob being downloaded, written to PATH as it is read (see
 * input_open_blob: PATH's own bytes come first, a gzip blob is told by its magic number).
 * --follow: stdin is a file berthd is still writing (a blob being stored), read as it grows: on
 * descriptor 3 berthd writes '+' after each write and 'E' once the file is whole; 3 closing
 * without 'E' fails the layer. The unpack then ends about when the blob is stored.
 * On success it writes one JSON line to stdout: {"size": bytes of the uncompressed tar,
 * "diffId": "sha256:…" with --digest, "blob": {"digest": "sha256:…", "size": bytes} with --blob}.
 * On failure: see tool.h; with --blob the failure also gives "blob" when the rest of the input
 * could still be read into PATH.
 * --socket SIZE STALL_MS (with --blob): stdin is the registry's connection itself, its response's
 * headers read by berthd, which wrote the body bytes it had read to PATH. The blob is SIZE bytes in
 * all (PATH's and the socket's): no more is read from the socket, which may be non-blocking (it is
 * shared with berthd's event loop, where it sits unread). Waiting STALL_MS for a byte fails, as a
 * stalled registry fails berthd's own reads (0: no limit, as for berthd). The extractor dies with
 * berthd then: nothing else would stop it reading a connection the next berthd knows nothing of,
 * into a partial file that berthd resumes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "untar-entry.h"
#include "untar-input.h"
#include "untar-paths.h"
#include "untar-write.h"

static const char USAGE[] = "usage: berth-untar DEST overlay|delete [--gzip] [--digest] [--blob PATH [--socket SIZE STALL_MS] | --follow] < layer.tar";

static struct input *blob_input;

static void report_blob(FILE *out) {
  input_report_blob(blob_input, out);
}

int main(int argc, char **argv) {
  if (argc < 3) tool_fail(0, "%s", USAGE);
  enum whiteout_mode mode;
  if (strcmp(argv[2], "overlay") == 0) mode = WHITEOUTS_OVERLAY;
  else if (strcmp(argv[2], "delete") == 0) mode = WHITEOUTS_DELETE;
  else tool_fail(0, "%s", USAGE);
  bool gzip = false, digest = false, follow = false;
  const char *blob = NULL;
  const char *socket_size = NULL, *socket_stall = NULL;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--gzip") == 0) gzip = true;
    else if (strcmp(argv[i], "--digest") == 0) digest = true;
    else if (strcmp(argv[i], "--blob") == 0 && i + 1 < argc) blob = argv[++i];
    else if (strcmp(argv[i], "--follow") == 0) follow = true;
    else if (strcmp(argv[i], "--socket") == 0 && i + 2 < argc) socket_size = argv[++i], socket_stall = argv[++i];
    else tool_fail(0, "%s", USAGE);
  }
  /* A blob's compression is told by its magic number. */
  if ((blob && (gzip || follow)) || (socket_size && !blob)) tool_fail(0, "%s", USAGE);
  if (socket_size) tool_die_with_daemon();
  /* Opened before the chroot: the blob is outside the layer. */
  int blob_fd = -1;
  if (blob && (blob_fd = open(blob, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) tool_fail(errno, "opening the blob file %s", blob);
  tool_enter_root(argv[1]);

  struct input *in = blob ? input_open_blob(STDIN_FILENO, blob_fd, digest, socket_size ? &(struct socket_limits){tool_number(socket_size), (int)tool_number(socket_stall)} : NULL)
                          : input_open(STDIN_FILENO, gzip, digest);
  if (follow) input_follow(in);
  if (blob) {
    blob_input = in;
    tool_on_failure(report_blob);
  }
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
  tool_on_failure(NULL);
  char line[320];
  int length = snprintf(line, sizeof line, "{\"size\":%llu", size);
  if (digest) length += snprintf(line + length, sizeof line - (size_t)length, ",\"diffId\":\"%s\"", diff_id);
  if (blob) {
    char blob_digest[72];
    unsigned long long blob_size = input_blob(in, blob_digest);
    length += snprintf(line + length, sizeof line - (size_t)length, ",\"blob\":{\"digest\":\"%s\",\"size\":%llu}", blob_digest, blob_size);
  }
  length += snprintf(line + length, sizeof line - (size_t)length, "}\n");
  tool_write_all(STDOUT_FILENO, line, (size_t)length, "the result");
  return 0;
}
