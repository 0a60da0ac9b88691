#define _GNU_SOURCE
#include "untar-input.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tool.h"

/* Tar bytes are handed out of a buffer this big: a 1 MiB file is one read and one write. */
#define BUFFER_BYTES (1024 * 1024)
#define RAW_BYTES (256 * 1024)

struct input {
  int fd;
  bool gzip;
  bool gzip_done;
  bool raw_eof;
  z_stream z;
  unsigned char *raw;
  unsigned char *buf;
  size_t start, end;
  EVP_MD_CTX *sha;
  uint64_t total;
};

struct input *input_open(int fd, bool gzip, bool digest) {
  struct input *in = tool_checked(calloc(1, sizeof *in));
  in->buf = tool_checked(malloc(BUFFER_BYTES));
  in->fd = fd;
  in->gzip = gzip;
  if (gzip) {
    in->raw = tool_checked(malloc(RAW_BYTES));
    /* 16 + MAX_WBITS: a gzip wrapper, not zlib's own. */
    if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) tool_fail(0, "starting zlib");
  }
  if (digest) {
    in->sha = EVP_MD_CTX_new();
    if (!in->sha || EVP_DigestInit_ex(in->sha, EVP_sha256(), NULL) != 1) tool_fail(0, "starting sha256");
  }
  return in;
}

static bool read_raw(struct input *in) {
  if (in->raw_eof) return false;
  size_t n = tool_read_full(in->fd, in->raw, RAW_BYTES, "the layer");
  if (n < RAW_BYTES) in->raw_eof = true;
  in->z.next_in = in->raw;
  in->z.avail_in = (uInt)n;
  return n > 0;
}

/*
 * Fills the buffer with inflated bytes. A gzip stream may be several members one after the other
 * (as zlib's gunzip in Node reads them); bytes after the last member that do not start another
 * one are ignored, as there.
 */
static size_t inflate_some(struct input *in) {
  in->z.next_out = in->buf;
  in->z.avail_out = BUFFER_BYTES;
  while (in->z.avail_out == BUFFER_BYTES && !in->gzip_done) {
    if (in->z.avail_in == 0 && !read_raw(in)) tool_fail(0, "gzip data: unexpected end of file");
    int status = inflate(&in->z, Z_NO_FLUSH);
    if (status == Z_STREAM_END) {
      if (in->z.avail_in < 2 && !in->raw_eof) {
        /* Too little left to tell whether another member follows: keep it and read on. */
        unsigned char keep[2];
        size_t kept = in->z.avail_in;
        memcpy(keep, in->z.next_in, kept);
        size_t n = tool_read_full(in->fd, in->raw + kept, RAW_BYTES - kept, "the layer");
        if (n < RAW_BYTES - kept) in->raw_eof = true;
        memcpy(in->raw, keep, kept);
        in->z.next_in = in->raw;
        in->z.avail_in = (uInt)(kept + n);
      }
      if (in->z.avail_in >= 2 && in->z.next_in[0] == 0x1f && in->z.next_in[1] == 0x8b) {
        if (inflateReset(&in->z) != Z_OK) tool_fail(0, "gzip data: resetting zlib");
      } else {
        in->gzip_done = true;
      }
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      tool_fail(0, "invalid gzip data: %s", in->z.msg ? in->z.msg : zError(status));
    }
  }
  return BUFFER_BYTES - in->z.avail_out;
}

static bool refill(struct input *in) {
  in->start = 0;
  in->end = in->gzip ? inflate_some(in) : (size_t)0;
  if (!in->gzip) {
    /* One read, not a full buffer: a pipe gives what the writer has put in so far. */
    for (;;) {
      ssize_t n = read(in->fd, in->buf, BUFFER_BYTES);
      if (n >= 0) {
        in->end = (size_t)n;
        break;
      }
      if (errno != EINTR) tool_fail(errno, "reading the layer");
    }
  }
  if (in->end == 0) return false;
  in->total += in->end;
  if (in->sha && EVP_DigestUpdate(in->sha, in->buf, in->end) != 1) tool_fail(0, "sha256 of the layer");
  return true;
}

size_t input_take(struct input *in, size_t max, const unsigned char **data) {
  if (in->start == in->end && !refill(in)) return 0;
  size_t n = in->end - in->start;
  if (n > max) n = max;
  *data = in->buf + in->start;
  in->start += n;
  return n;
}

size_t input_read(struct input *in, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    const unsigned char *data;
    size_t n = input_take(in, len - done, &data);
    if (n == 0) break;
    memcpy((char *)buf + done, data, n);
    done += n;
  }
  return done;
}

bool input_skip(struct input *in, uint64_t len) {
  while (len > 0) {
    const unsigned char *data;
    size_t n = input_take(in, len > SIZE_MAX ? SIZE_MAX : (size_t)len, &data);
    if (n == 0) return false;
    len -= n;
  }
  return true;
}

uint64_t input_finish(struct input *in, char digest[72]) {
  in->start = in->end;
  while (refill(in)) in->start = in->end;
  if (in->sha) {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(in->sha, hash, &length) != 1 || length != 32) tool_fail(0, "sha256 of the layer");
    memcpy(digest, "sha256:", 7);
    for (unsigned int i = 0; i < length; i++) sprintf(digest + 7 + 2 * i, "%02x", hash[i]);
  }
  return in->total;
}
