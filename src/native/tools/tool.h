/*
 * What berthd's native helper programs (berth-untar, berth-pack) share: the failure protocol
 * berthd reads (src/archive/helper-process.ts: one JSON line {message, code} on stderr, exit
 * status 1), whole reads and writes, and confinement to a directory.
 */
#ifndef BERTH_TOOL_H
#define BERTH_TOOL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Reports `err` (an errno value, 0 for none) with a printf-style message and exits with status 1. */
__attribute__((noreturn, format(printf, 2, 3))) void tool_fail(int err, const char *format, ...);

/*
 * Has tool_fail call `fields` (NULL: nothing) before it closes the failure's JSON object, to add
 * fields the tool can still report (each printed as `,"name":value`).
 */
void tool_on_failure(void (*fields)(FILE *out));

/* Writes all of `buf` or fails (EINTR retried); `what` names the output in the failure. */
void tool_write_all(int fd, const void *buf, size_t len, const char *what);

/* Reads until `len` bytes or end of input; returns the bytes read, fails on a read error. */
size_t tool_read_full(int fd, void *buf, size_t len, const char *what);

/* chroot(dir), chdir("/") and umask(0): from here on no name can resolve outside `dir`. */
void tool_enter_root(const char *dir);

/*
 * The tool is killed when the daemon that started it dies. BERTH_PARENT_PID (the daemon's pid)
 * tells a daemon that died before this call, whose child is then already someone else's.
 */
void tool_die_with_daemon(void);

/* A decimal argument of the command line, failing when it is not one. */
unsigned long long tool_number(const char *text);

/* `allocated` (what malloc and friends returned), failing when it is NULL. */
void *tool_checked(void *allocated);

#endif
