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
  /* --follow: the file is still being written; its writer speaks on FOLLOW_FD (see untar.c). */
  bool follow;
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

struct input *input_open(int fd, bool gzip, bool digest, bool follow) {
  struct input *in = tool_checked(calloc(1, sizeof *in));
  in->buf = tool_checked(malloc(BUFFER_BYTES));
  in->fd = fd;
  in->follow = follow;
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

/*
 * Blocks until the writer of a followed file says more is written ('+', any number of them) or
 * that all is ('E': the file is whole, reading on to its end reads the rest). Its channel closing
 * without 'E' means it failed: the layer stops short.
 */
static void wait_for_writer(struct input *in) {
  char said[256];
  for (;;) {
    ssize_t n = read(FOLLOW_FD, said, sizeof said);
    if (n > 0) {
      if (memchr(said, 'E', (size_t)n)) in->follow = false;
      return;
    }
    if (n == 0) tool_fail(0, "the layer stopped short: its writer gave up");
    if (errno != EINTR) tool_fail(errno, "waiting for the layer's writer");
  }
}

/* Some bytes of the input (0 only at its end); a followed file's end is where its writer says. */
static size_t read_some(struct input *in, void *buf, size_t len) {
  for (;;) {
    ssize_t n = read(in->fd, buf, len);
    if (n > 0) return (size_t)n;
    if (n == 0) {
      if (!in->follow) return 0;
      wait_for_writer(in);
    } else if (errno != EINTR) {
      tool_fail(errno, "reading the layer");
    }
  }
}

static size_t read_full(struct input *in, unsigned char *buf, size_t len) {
  size_t done = 0;
  for (size_t n; done < len && (n = read_some(in, buf + done, len - done)) > 0;) done += n;
  return done;
}

static bool read_raw(struct input *in) {
  if (in->raw_eof) return false;
  size_t n = read_full(in, in->raw, RAW_BYTES);
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
        size_t n = read_full(in, in->raw + kept, RAW_BYTES - kept);
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
    in->end = read_some(in, in->buf, BUFFER_BYTES);
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
