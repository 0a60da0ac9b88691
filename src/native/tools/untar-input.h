/*
 * berth-untar's input: the layer tar from a descriptor, gunzipped on the way when asked, counted
 * and (when asked) hashed as the uncompressed tar it is, so berthd gets the diff ID from the same
 * pass that unpacks the layer.
 */
#ifndef BERTH_UNTAR_INPUT_H
#define BERTH_UNTAR_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct input;

/* The descriptor a followed file's writer speaks on (berth-untar --follow). */
#define FOLLOW_FD 3

/* `follow`: `fd` is a file still being written, read as it grows (see wait_for_writer). */
struct input *input_open(int fd, bool gzip, bool digest, bool follow);

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

#endif
