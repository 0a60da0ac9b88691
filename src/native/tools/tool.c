#define _GNU_SOURCE
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* errno's symbolic name (ENOSPC), which berthd maps to a status: strerrorname_np is glibc ≥ 2.32. */
static const char *errno_name(int err) {
  const char *name = err ? strerrorname_np(err) : NULL;
  return name;
}

static void json_string(FILE *out, const char *text) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

static void (*failure_fields)(FILE *out);

void tool_on_failure(void (*fields)(FILE *out)) {
  failure_fields = fields;
}

void tool_fail(int err, const char *format, ...) {
  char message[8192];
  va_list args;
  va_start(args, format);
  int used = vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (err && used >= 0 && (size_t)used < sizeof message)
    snprintf(message + used, sizeof message - (size_t)used, ": %s", strerror(err));
  fputs("{\"message\":", stderr);
  json_string(stderr, message);
  const char *code = errno_name(err);
  if (code) {
    fputs(",\"code\":", stderr);
    json_string(stderr, code);
  }
  if (failure_fields) {
    /* Once: a failure inside it must not call it again. */
    void (*fields)(FILE *out) = failure_fields;
    failure_fields = NULL;
    fields(stderr);
  }
  fputs("}\n", stderr);
  exit(1);
}

void tool_write_all(int fd, const void *buf, size_t len, const char *what) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      tool_fail(errno, "writing %s", what);
    }
    p += n;
    len -= (size_t)n;
  }
}

size_t tool_read_full(int fd, void *buf, size_t len, const char *what) {
  char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      tool_fail(errno, "reading %s", what);
    }
    if (n == 0) break;
    done += (size_t)n;
  }
  return done;
}

void tool_enter_root(const char *dir) {
  if (chroot(dir) != 0) tool_fail(errno, "chroot %s", dir);
  if (chdir("/") != 0) tool_fail(errno, "chdir /");
  umask(0);
}

void *tool_checked(void *allocated) {
  if (!allocated) tool_fail(ENOMEM, "allocating memory");
  return allocated;
}

unsigned long long tool_number(const char *text) {
  char *end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') tool_fail(0, "not a number: %s", text);
  return value;
}

void tool_die_with_daemon(void) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) tool_fail(errno, "%s", "prctl PR_SET_PDEATHSIG");
  const char *parent = getenv("BERTH_PARENT_PID");
  if (parent && getppid() != (pid_t)atol(parent)) tool_fail(0, "%s", "the daemon that started the tool is gone");
}
