#define _GNU_SOURCE
#include "untar-input.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tool.h"

/* Tar bytes are handed out of a buffer this big: a 1 MiB file is one read and one write. */
#define BUFFER_BYTES (1024 * 1024)
#define RAW_BYTES (256 * 1024)
/* A download's pipe holds this much: fewer wake-ups of this process and of berthd's writes. */
#define PIPE_BYTES (1024 * 1024)
/*
 * The blob's file is handed to the disk every this many bytes (writeback started, not awaited), so
 * that the fsync which publishes it in the content store waits only for the tail.
 */
#define WRITEBACK_BYTES (8 * 1024 * 1024)

struct input {
  int fd;
  /* input_follow: the file is still being written; its writer speaks on FOLLOW_FD. */
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
  /* The blob's file (-1: none), whether its own bytes are all read, its hash and size. */
  int blob_fd;
  bool blob_file_read;
  EVP_MD_CTX *blob_sha;
  uint64_t blob_total;
  uint64_t blob_handed_to_disk;
  char blob_digest[72];
  /* berth-untar --socket: the descriptor is the registry's connection (see struct socket_limits). */
  bool socket;
  struct socket_limits limits;
  /* Bytes read ahead to tell the compression, handed out again first. */
  unsigned char head[2];
  size_t head_len, head_pos;
  /* What failed in source_try (for the failure message). */
  const char *failed;
};

static EVP_MD_CTX *sha256_start(void) {
  EVP_MD_CTX *sha = EVP_MD_CTX_new();
  if (!sha || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) tool_fail(0, "starting sha256");
  return sha;
}

static void sha256_hex(EVP_MD_CTX *sha, char digest[72]) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(sha, hash, &length) != 1 || length != 32) tool_fail(0, "sha256 of the layer");
  memcpy(digest, "sha256:", 7);
  for (unsigned int i = 0; i < length; i++) sprintf(digest + 7 + 2 * i, "%02x", hash[i]);
}

static struct input *input_new(int fd, int blob_fd, bool digest) {
  struct input *in = tool_checked(calloc(1, sizeof *in));
  in->buf = tool_checked(malloc(BUFFER_BYTES));
  in->raw = tool_checked(malloc(RAW_BYTES));
  in->fd = fd;
  in->blob_fd = blob_fd;
  if (digest) in->sha = sha256_start();
  return in;
}

static void start_gzip(struct input *in) {
  in->gzip = true;
  /* 16 + MAX_WBITS: a gzip wrapper, not zlib's own. */
  if (inflateInit2(&in->z, 16 + MAX_WBITS) != Z_OK) tool_fail(0, "starting zlib");
}

struct input *input_open(int fd, bool gzip, bool digest) {
  struct input *in = input_new(fd, -1, digest);
  if (gzip) start_gzip(in);
  return in;
}

void input_follow(struct input *in) {
  in->follow = true;
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

/*
 * One read of the descriptor. The registry's connection is read up to the blob's size only, each
 * read once poll says a byte is there: it is blocking or not as its last user left it (libuv makes
 * a child's stdin blocking, berthd's event loop makes it non-blocking), and a stall must fail.
 */
static ssize_t read_descriptor(struct input *in, unsigned char *buf, size_t len) {
  if (!in->socket) return read(in->fd, buf, len);
  if (in->blob_total >= in->limits.size) return 0;
  if (len > in->limits.size - in->blob_total) len = (size_t)(in->limits.size - in->blob_total);
  static char stalled[96];
  /* Once stalled, for good: the failure's report of the blob does not wait a second time. */
  if (stalled[0]) return errno = 0, in->failed = stalled, -1;
  for (;;) {
    struct pollfd ready = {.fd = in->fd, .events = POLLIN};
    int polled = poll(&ready, 1, in->limits.stall_ms > 0 ? in->limits.stall_ms : -1);
    if (polled == 0) {
      snprintf(stalled, sizeof stalled, "net/http: timeout awaiting response body (no data for %d ms)", in->limits.stall_ms);
      return errno = 0, in->failed = stalled, -1;
    }
    if (polled < 0 && errno == EINTR) continue;
    if (polled < 0) return in->failed = "waiting for the registry", -1;
    ssize_t n = read(in->fd, buf, len);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return n;
  }
}

/*
 * The layer's next bytes as they came (compressed or not): the blob file's own first, then the
 * descriptor's, appended to the blob file; all hashed as the blob. 0 at the end; -1 on an error,
 * with errno and in->failed set.
 */
static ssize_t source_try(struct input *in, unsigned char *buf, size_t len) {
  if (in->head_pos < in->head_len) {
    size_t n = in->head_len - in->head_pos;
    if (n > len) n = len;
    memcpy(buf, in->head + in->head_pos, n);
    in->head_pos += n;
    return (ssize_t)n;
  }
  ssize_t n;
  if (in->blob_fd >= 0 && !in->blob_file_read) {
    do n = read(in->blob_fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) return in->failed = "reading the blob file", -1;
    if (n > 0) {
      if (EVP_DigestUpdate(in->blob_sha, buf, (size_t)n) != 1) return errno = 0, in->failed = "sha256 of the blob", -1;
      in->blob_total += (uint64_t)n;
      return n;
    }
    in->blob_file_read = true;
  }
  for (;;) {
    do n = read_descriptor(in, buf, len);
    while (n < 0 && errno == EINTR);
    if (n != 0 || !in->follow) break;
    wait_for_writer(in);
  }
  if (n < 0) return in->failed = in->failed ? in->failed : "reading the layer", -1;
  if (n > 0 && in->blob_fd >= 0) {
    /* O_APPEND: every write lands at the end of the file. */
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(in->blob_fd, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return in->failed = "writing the blob file", -1;
      done += w;
    }
    if (EVP_DigestUpdate(in->blob_sha, buf, (size_t)n) != 1) return errno = 0, in->failed = "sha256 of the blob", -1;
    in->blob_total += (uint64_t)n;
    if (in->blob_total - in->blob_handed_to_disk >= WRITEBACK_BYTES) {
      /* Only a head start: a failure here is the final fsync's to report. */
      (void)sync_file_range(in->blob_fd, (off_t)in->blob_handed_to_disk, (off_t)(in->blob_total - in->blob_handed_to_disk), SYNC_FILE_RANGE_WRITE);
      in->blob_handed_to_disk = in->blob_total;
    }
  }
  return n;
}

static size_t source_read(struct input *in, unsigned char *buf, size_t len) {
  ssize_t n = source_try(in, buf, len);
  if (n < 0) tool_fail(errno, "%s", in->failed);
  return (size_t)n;
}

/* Reads until `len` bytes or the end of the layer. */
static size_t source_read_full(struct input *in, unsigned char *buf, size_t len) {
  size_t done = 0;
  for (size_t n; done < len && (n = source_read(in, buf + done, len - done)) > 0;) done += n;
  return done;
}

struct input *input_open_blob(int fd, int blob_fd, bool digest, const struct socket_limits *socket) {
  struct input *in = input_new(fd, blob_fd, false);
  in->blob_sha = sha256_start();
  if (socket) in->socket = true, in->limits = *socket;
  /* Only a privileged or small enough size is granted; the default one still works. */
  (void)fcntl(fd, F_SETPIPE_SZ, PIPE_BYTES);
  in->head_len = source_read_full(in, in->head, sizeof in->head);
  if (in->head_len == 2 && in->head[0] == 0x1f && in->head[1] == 0x8b) start_gzip(in);
  /* A plain blob is the tar itself: its digest is the diff ID, not hashed twice. */
  if (digest && in->gzip) in->sha = sha256_start();
  return in;
}

static bool read_raw(struct input *in) {
  if (in->raw_eof) return false;
  size_t n = source_read_full(in, in->raw, RAW_BYTES);
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
        size_t n = source_read_full(in, in->raw + kept, RAW_BYTES - kept);
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
  /* Plain: one read, not a full buffer: a pipe gives what the writer has put in so far. */
  in->end = in->gzip ? inflate_some(in) : source_read(in, in->buf, BUFFER_BYTES);
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

/* With a blob: what follows a gzip stream's end is still the blob's. */
static void read_blob_to_end(struct input *in) {
  while (source_read(in, in->raw, RAW_BYTES) > 0) {
  }
}

uint64_t input_finish(struct input *in, char digest[72]) {
  in->start = in->end;
  while (refill(in)) in->start = in->end;
  if (in->blob_fd >= 0) {
    read_blob_to_end(in);
    sha256_hex(in->blob_sha, in->blob_digest);
    if (!in->gzip) memcpy(digest, in->blob_digest, sizeof in->blob_digest);
  }
  if (in->sha) sha256_hex(in->sha, digest);
  return in->total;
}

uint64_t input_blob(struct input *in, char digest[72]) {
  memcpy(digest, in->blob_digest, sizeof in->blob_digest);
  return in->blob_total;
}

void input_report_blob(struct input *in, FILE *out) {
  for (ssize_t n; (n = source_try(in, in->raw, RAW_BYTES)) != 0;)
    if (n < 0) return;
  sha256_hex(in->blob_sha, in->blob_digest);
  fprintf(out, ",\"blob\":{\"digest\":\"%s\",\"size\":%llu}", in->blob_digest, (unsigned long long)in->blob_total);
}
