/*
 * berth-untar's input: the layer tar from a descriptor, gunzipped on the way when asked, counted
 * and (when asked) hashed as the uncompressed tar it is, so berthd gets the diff ID from the same
 * pass that unpacks the layer.
 *
 * With a blob file (input_open_blob), the input is a blob being downloaded: the bytes the file
 * holds already (a download resumed) come first, then the descriptor's, which are appended to the
 * file as they are read; the blob's sha256 and size are computed over all of them, and its
 * compression is told by its magic number. berthd then only moves the bytes from the socket to
 * the pipe: the file, both hashes and the unpacking are done here, in one pass.
 */
#ifndef BERTH_UNTAR_INPUT_H
#define BERTH_UNTAR_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct input;

struct input *input_open(int fd, bool gzip, bool digest);

/* The descriptor a followed file's writer speaks on (berth-untar --follow). */
#define FOLLOW_FD 3

/*
 * The input is a file still being written (not a blob's download), read as it grows: at its end
 * for now, the writer on FOLLOW_FD says whether more comes (see wait_for_writer).
 */
void input_follow(struct input *in);

/*
 * A blob read from the registry's connection itself (berth-untar --socket): `size` bytes in all,
 * the file's own and the socket's; waiting `stall_ms` for a byte fails (0: no limit).
 */
struct socket_limits {
  uint64_t size;
  int stall_ms;
};

/*
 * input_open for a blob: `blob_fd` is the blob's file, open for reading and appending; `socket`
 * (NULL: none) when `fd` is the registry's connection.
 */
struct input *input_open_blob(int fd, int blob_fd, bool digest, const struct socket_limits *socket);

/* Up to `max` bytes of the tar at *data (valid until the next call); 0 only at the end of input. */
size_t input_take(struct input *in, size_t max, const unsigned char **data);

/* Copies exactly `len` bytes into `buf`; returns fewer only at the end of input. */
size_t input_read(struct input *in, void *buf, size_t len);

/* Skips `len` bytes; returns false when the input ends first. */
bool input_skip(struct input *in, uint64_t len);

/*
 * Reads what is left (what follows the last entry is part of the layer's bytes and of its
 * digest), then returns the tar's size and writes "sha256:<hex>" to `digest` (72 bytes) when
 * hashing was asked for.
 */
uint64_t input_finish(struct input *in, char digest[72]);

/* With a blob: its "sha256:<hex>" into `digest` (72 bytes) and its size, once input_finish has read it all. */
uint64_t input_blob(struct input *in, char digest[72]);

/*
 * With a blob, after a failure: reads the rest of the descriptor into the blob file, as far as it
 * goes without an error, and prints `,"blob":{"digest":…,"size":…}` to `out`, so that berthd can
 * still tell a blob that does not match its digest (the likelier cause) from a broken tar. Prints
 * nothing when the blob could not be read to its end.
 */
void input_report_blob(struct input *in, FILE *out);

#endif
