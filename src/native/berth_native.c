/*
 * The few Linux syscalls Node cannot make: mount (also from another working directory), umount2,
 * mknod, lsetxattr, lgetxattr, llistxattr, chroot; posix_spawn of a program in its own session,
 * and reaping it (spawnDetached, reapChild); and a recursive removal (removeTree).
 * The xattr functions take a path as a string or as a Buffer of raw bytes (see get_path).
 * Every function but umount2Async and removeTree is synchronous and throws an Error shaped like Node's fs errors
 * (err.code = 'EPERM', err.errno = -1, err.syscall = 'mount', err.path = target), so callers
 * handle them with the same errnoCode() checks as any fs failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <node_api.h>

/* Longest path or mount option string accepted; mount data beyond a page is refused by the kernel. */
#define MAX_STRING 8192

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char message[MAX_STRING + 128];
  snprintf(message, sizeof message, "%s: %s, %s '%s'", name ? name : "UNKNOWN", strerror(err), syscall, path);
  napi_value code, msg, error, value;
  napi_create_string_utf8(env, name ? name : "UNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  return error;
}

static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
}

/* Copies argument `index` into a new heap string; null/undefined give NULL when `optional`. */
static int get_string(napi_env env, napi_value *argv, size_t index, int optional, char **out) {
  napi_valuetype type;
  napi_typeof(env, argv[index], &type);
  *out = NULL;
  if (optional && (type == napi_null || type == napi_undefined)) return 1;
  if (type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a string argument");
    return 0;
  }
  size_t length;
  napi_get_value_string_utf8(env, argv[index], NULL, 0, &length);
  if (length > MAX_STRING) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "string argument too long");
    return 0;
  }
  *out = malloc(length + 1);
  napi_get_value_string_utf8(env, argv[index], *out, length + 1, &length);
  return 1;
}

/* A path argument: a string (UTF-8), or a Buffer of the name's own bytes, which need not be
 * UTF-8 (a file a container named); copied into a new heap string, NUL-terminated. */
static int get_path(napi_env env, napi_value *argv, size_t index, char **out) {
  bool is_buffer = false;
  napi_is_buffer(env, argv[index], &is_buffer);
  if (!is_buffer) return get_string(env, argv, index, 0, out);
  void *data;
  size_t length;
  napi_get_buffer_info(env, argv[index], &data, &length);
  *out = NULL;
  if (length > MAX_STRING || memchr(data, 0, length) != NULL) {
    napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "path too long or holding a NUL byte");
    return 0;
  }
  *out = malloc(length + 1);
  memcpy(*out, data, length);
  (*out)[length] = '\0';
  return 1;
}

static int get_uint32(napi_env env, napi_value *argv, size_t index, uint32_t *out) {
  if (napi_get_value_uint32(env, argv[index], out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a number argument");
    return 0;
  }
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < expected) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
    return 0;
  }
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

/* mount(source, target, fstype, flags, data) */
static napi_value Mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  uint32_t flags;
  if (get_args(env, info, 5, argv) && get_string(env, argv, 0, 1, &source) && get_string(env, argv, 1, 0, &target) &&
      get_string(env, argv, 2, 1, &fstype) && get_uint32(env, argv, 3, &flags) && get_string(env, argv, 4, 1, &data)) {
    if (mount(source, target, fstype, flags, data) != 0) throw_errno(env, errno, "mount", target);
  }
  free(source); free(target); free(fstype); free(data);
  return undefined(env);
}

/*
 * mountFrom(dir, source, target, fstype, flags, data): mount with `dir` as the working directory,
 * so relative paths in `data` (overlay's lowerdir=l/SHORT:…) resolve from it and the option string
 * stays under a page. The chdir happens in a vfork()ed child, which has its own working directory:
 * the daemon's, and any relative path its other threads resolve meanwhile, never change. The child
 * only calls chdir, mount and _exit, and reports errno as its exit status.
 */
static napi_value MountFrom(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  char *dir = NULL, *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  uint32_t flags;
  if (get_args(env, info, 6, argv) && get_string(env, argv, 0, 0, &dir) && get_string(env, argv, 1, 1, &source) &&
      get_string(env, argv, 2, 0, &target) && get_string(env, argv, 3, 1, &fstype) && get_uint32(env, argv, 4, &flags) &&
      get_string(env, argv, 5, 1, &data)) {
    pid_t pid = vfork();
    if (pid == 0) {
      if (chdir(dir) != 0) _exit(errno);
      _exit(mount(source, target, fstype, flags, data) == 0 ? 0 : errno);
    }
    if (pid < 0) {
      throw_errno(env, errno, "vfork", target);
    } else {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      if (!WIFEXITED(status)) throw_errno(env, EIO, "mount", target);
      else if (WEXITSTATUS(status) != 0) throw_errno(env, WEXITSTATUS(status), "mount", target);
    }
  }
  free(dir); free(source); free(target); free(fstype); free(data);
  return undefined(env);
}

/* umount2(target, flags) */
static napi_value Umount2(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char *target = NULL;
  uint32_t flags;
  if (get_args(env, info, 2, argv) && get_string(env, argv, 0, 0, &target) && get_uint32(env, argv, 1, &flags)) {
    if (umount2(target, (int)flags) != 0) throw_errno(env, errno, "umount2", target);
  }
  free(target);
  return undefined(env);
}

/* What every thread-pool job starts with: its work item and the promise it settles. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
} AsyncJob;

/* Queues `job` (an AsyncJob first) on libuv's thread pool; returns the promise it settles. */
static napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                            napi_async_complete_callback complete, AsyncJob *job) {
  napi_value promise, resource_name;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

/*
 * umount2(target, flags) on libuv's thread pool, resolving a promise: unmounting an overlay syncs
 * its upper filesystem, which must not stall the event loop.
 */
typedef struct {
  AsyncJob job;
  char *target;
  int flags;
  int err;
} UmountJob;

static void umount_execute(napi_env env, void *data) {
  (void)env;
  UmountJob *job = data;
  job->err = umount2(job->target, job->flags) == 0 ? 0 : errno;
}

static void umount_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  UmountJob *job = data;
  if (job->err == 0) napi_resolve_deferred(env, job->job.deferred, undefined(env));
  else napi_reject_deferred(env, job->job.deferred, errno_error(env, job->err, "umount2", job->target));
  napi_delete_async_work(env, job->job.work);
  free(job->target);
  free(job);
}

static napi_value Umount2Async(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char *target = NULL;
  uint32_t flags;
  if (!(get_args(env, info, 2, argv) && get_string(env, argv, 0, 0, &target) && get_uint32(env, argv, 1, &flags))) {
    free(target);
    return undefined(env);
  }
  UmountJob *job = calloc(1, sizeof *job);
  job->target = target;
  job->flags = (int)flags;
  return queue_job(env, "berth:umount2", umount_execute, umount_complete, &job->job);
}

/* mknod(path, mode, dev): dev is the encoded makedev(major, minor), see index.ts. */
static napi_value Mknod(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char *path = NULL;
  uint32_t mode, dev;
  if (get_args(env, info, 3, argv) && get_string(env, argv, 0, 0, &path) && get_uint32(env, argv, 1, &mode) &&
      get_uint32(env, argv, 2, &dev)) {
    if (mknod(path, (mode_t)mode, (dev_t)dev) != 0) throw_errno(env, errno, "mknod", path);
  }
  free(path);
  return undefined(env);
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value Lsetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char *path = NULL, *name = NULL;
  if (get_args(env, info, 3, argv) && get_path(env, argv, 0, &path) && get_string(env, argv, 1, 0, &name)) {
    void *value;
    size_t length;
    if (napi_get_buffer_info(env, argv[2], &value, &length) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Buffer value");
    } else if (lsetxattr(path, name, value, length, 0) != 0) {
      throw_errno(env, errno, "lsetxattr", path);
    }
  }
  free(path); free(name);
  return undefined(env);
}

/* llistxattr(path) -> Buffer of the attribute names, each ending with a NUL byte. */
static napi_value Llistxattr(napi_env env, napi_callback_info info) {
  napi_value argv[1], result = NULL;
  char *path = NULL;
  if (get_args(env, info, 1, argv) && get_path(env, argv, 0, &path)) {
    /* The list can grow between the two calls; retry on ERANGE. */
    for (;;) {
      ssize_t size = llistxattr(path, NULL, 0);
      if (size < 0) {
        throw_errno(env, errno, "llistxattr", path);
        break;
      }
      void *data;
      napi_create_buffer(env, (size_t)size, &data, &result);
      ssize_t got = size == 0 ? 0 : llistxattr(path, data, (size_t)size);
      if (got >= 0) {
        if (got < size) napi_create_buffer_copy(env, (size_t)got, data, NULL, &result);
        break;
      }
      if (errno != ERANGE) {
        result = NULL;
        throw_errno(env, errno, "llistxattr", path);
        break;
      }
    }
  }
  free(path);
  return result ? result : undefined(env);
}

/* lgetxattr(path, name) -> Buffer, or null when the attribute is not set. */
static napi_value Lgetxattr(napi_env env, napi_callback_info info) {
  napi_value argv[2], result = NULL;
  char *path = NULL, *name = NULL;
  if (get_args(env, info, 2, argv) && get_path(env, argv, 0, &path) && get_string(env, argv, 1, 0, &name)) {
    /* The size can change between the two calls; retry on ERANGE. */
    for (;;) {
      ssize_t size = lgetxattr(path, name, NULL, 0);
      if (size < 0) {
        if (errno == ENODATA) napi_get_null(env, &result);
        else throw_errno(env, errno, "lgetxattr", path);
        break;
      }
      void *data;
      napi_create_buffer(env, (size_t)size, &data, &result);
      ssize_t got = size == 0 ? 0 : lgetxattr(path, name, data, (size_t)size);
      if (got >= 0) {
        if (got < size) napi_create_buffer_copy(env, (size_t)got, data, NULL, &result);
        break;
      }
      if (errno != ERANGE) {
        result = NULL;
        throw_errno(env, errno, "lgetxattr", path);
        break;
      }
    }
  }
  free(path); free(name);
  return result ? result : undefined(env);
}

/* chroot(path) */
static napi_value Chroot(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (get_args(env, info, 1, argv) && get_string(env, argv, 0, 0, &path)) {
    if (chroot(path) != 0) throw_errno(env, errno, "chroot", path);
  }
  free(path);
  return undefined(env);
}

/* Frees a NULL-terminated array of heap strings. */
static void free_strings(char **strings) {
  if (strings == NULL) return;
  for (char **s = strings; *s != NULL; s++) free(*s);
  free(strings);
}

/* Copies argument `index`, an array of strings, into a NULL-terminated array of heap strings. */
static int get_string_array(napi_env env, napi_value *argv, size_t index, char ***out) {
  uint32_t length;
  *out = NULL;
  if (napi_get_array_length(env, argv[index], &length) != napi_ok || length > 4096) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of strings");
    return 0;
  }
  char **strings = calloc(length + 1, sizeof *strings);
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    napi_get_element(env, argv[index], i, &element);
    if (!get_string(env, &element, 0, 0, &strings[i])) {
      free_strings(strings);
      return 0;
    }
  }
  *out = strings;
  return 1;
}

/* The lowest free fd at or above 10, close-on-exec, in place of `fd`: a dup2 onto the child's low fds never meets its own source. */
static int above_stdio(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  int err = errno;
  close(fd);
  errno = err;
  return high;
}

#define MAX_SPAWN_PIPES 8

/*
 * spawnDetached(path, args, env, cwd, pipes) → { pid, fds }: starts `path` with posix_spawn in a new
 * session (setsid), working directory `cwd`, default signal dispositions and an empty signal mask,
 * /dev/null as fds 0 and 1, and `pipes` socket pairs as its fds 2, 3, … (as libuv makes a
 * child's 'pipe' stdio); `fds` holds the daemon's ends, close-on-exec.
 * glibc's posix_spawn clones with CLONE_VM | CLONE_VFORK: unlike libuv's fork() it copies none of
 * the daemon's page tables (nor makes its heap copy-on-write until the child has exec'd), so the
 * event loop is held only while the child execs. Reap the child with waitExit.
 */
static napi_value SpawnDetached(napi_env env, napi_callback_info info) {
  napi_value argv[5], result = NULL;
  char *path = NULL, *cwd = NULL, **args = NULL, **envp = NULL;
  uint32_t count = 0;
  int parent_ends[MAX_SPAWN_PIPES], child_ends[MAX_SPAWN_PIPES], made = 0, devnull = -1, err = 0;
  const char *failed = "spawn";
  if (!(get_args(env, info, 5, argv) && get_string(env, argv, 0, 0, &path) && get_string_array(env, argv, 1, &args) &&
        get_string_array(env, argv, 2, &envp) && get_string(env, argv, 3, 0, &cwd) && get_uint32(env, argv, 4, &count))) {
    goto out;
  }
  if (count > MAX_SPAWN_PIPES) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "too many pipes");
    goto out;
  }
  devnull = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (devnull < 0) {
    err = errno, failed = "open";
    goto out;
  }
  for (; made < (int)count; made++) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      err = errno, failed = "socketpair";
      goto out;
    }
    child_ends[made] = above_stdio(pair[0]);
    parent_ends[made] = above_stdio(pair[1]);
    if (child_ends[made] < 0 || parent_ends[made] < 0) {
      err = EMFILE, failed = "socketpair";
      made++;
      goto out;
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&actions, devnull, 0);
  posix_spawn_file_actions_adddup2(&actions, devnull, 1);
  for (int i = 0; i < (int)count; i++) posix_spawn_file_actions_adddup2(&actions, child_ends[i], 2 + i);
  posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  pid_t pid;
  err = posix_spawn(&pid, path, &actions, &attr, args, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    failed = "spawn";
    goto out;
  }
  napi_value pid_value, fds, fd;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &pid_value);
  napi_set_named_property(env, result, "pid", pid_value);
  napi_create_array_with_length(env, count, &fds);
  for (int i = 0; i < (int)count; i++) {
    napi_create_int32(env, parent_ends[i], &fd);
    napi_set_element(env, fds, i, fd);
  }
  napi_set_named_property(env, result, "fds", fds);
out:
  if (devnull >= 0) close(devnull);
  for (int i = 0; i < made; i++) {
    if (child_ends[i] >= 0) close(child_ends[i]);
    if (result == NULL && parent_ends[i] >= 0) close(parent_ends[i]);
  }
  if (err != 0) throw_errno(env, err, failed, path ? path : "");
  free(path); free(cwd); free_strings(args); free_strings(envp);
  return result ? result : undefined(env);
}

/*
 * reapChild(pid): waitpid(pid, WNOHANG). undefined while the child runs; then its exit code, or
 * null when a signal ended it. Not a blocking wait on the thread pool: a pool thread held per
 * starting container would stall every file call of the daemon when a few start at once.
 */
static napi_value ReapChild(napi_env env, napi_callback_info info) {
  napi_value argv[1], value;
  uint32_t pid;
  if (!(get_args(env, info, 1, argv) && get_uint32(env, argv, 0, &pid))) return undefined(env);
  int status = 0;
  pid_t reaped;
  while ((reaped = waitpid((pid_t)pid, &status, WNOHANG)) < 0 && errno == EINTR) {}
  if (reaped < 0) {
    throw_errno(env, errno, "waitpid", "");
    return undefined(env);
  }
  if (reaped == 0) return undefined(env);
  if (WIFEXITED(status)) napi_create_int32(env, WEXITSTATUS(status), &value);
  else napi_get_null(env, &value);
  return value;
}

/*
 * removeTree(path): `rm -rf` on libuv's thread pool, as one job. Node's recursive rm makes some
 * twenty round trips between the event loop and the pool for a small folder (lstat, rmdir that
 * fails, readdir, each child); here it is nftw's walk, children first, never following a
 * symlink nor entering a mount of another file system (FTW_MOUNT; its contents are not this tree's: the folder holding the
 * mount point then fails with ENOTEMPTY). A path that does not exist is removed already.
 */
typedef struct {
  AsyncJob job;
  char *path;
  int err;
  char failed_path[MAX_STRING];
} RemoveJob;

static __thread int remove_error;
static __thread char *remove_failed_path;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)ftw;
  // A folder that could not be read (FTW_DNR) is still a folder: rmdir says whether it was empty.
  int failed = type == FTW_DP || type == FTW_DNR ? rmdir(path) : unlink(path);
  if (failed != 0 && errno != ENOENT) {
    remove_error = errno;
    snprintf(remove_failed_path, MAX_STRING, "%s", path);
    return 1;
  }
  return 0;
}

static void remove_execute(napi_env env, void *data) {
  (void)env;
  RemoveJob *job = data;
  remove_error = 0;
  remove_failed_path = job->failed_path;
  snprintf(job->failed_path, MAX_STRING, "%s", job->path);
  // A folder removed by someone else during the walk ends it with ENOENT: the walk is made again
  // while the tree itself is still there, so that nothing of it is left behind unreported.
  struct stat top;
  for (int attempt = 0; attempt < 3; attempt++) {
    if (nftw(job->path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 || remove_error != 0) break;
    if (errno != ENOENT) {
      remove_error = errno;
      break;
    }
    if (lstat(job->path, &top) != 0) break;
    if (attempt == 2) remove_error = ENOTEMPTY;
  }
  job->err = remove_error;
}

static void remove_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  RemoveJob *job = data;
  if (job->err == 0) napi_resolve_deferred(env, job->job.deferred, undefined(env));
  else napi_reject_deferred(env, job->job.deferred, errno_error(env, job->err, "rm", job->failed_path));
  napi_delete_async_work(env, job->job.work);
  free(job->path);
  free(job);
}

static napi_value RemoveTree(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char *path = NULL;
  if (!(get_args(env, info, 1, argv) && get_string(env, argv, 0, 0, &path))) return undefined(env);
  RemoveJob *job = calloc(1, sizeof *job);
  job->path = path;
  return queue_job(env, "berth:removeTree", remove_execute, remove_complete, &job->job);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
    {"mount", NULL, Mount, NULL, NULL, NULL, napi_default, NULL},
    {"mountFrom", NULL, MountFrom, NULL, NULL, NULL, napi_default, NULL},
    {"umount2", NULL, Umount2, NULL, NULL, NULL, napi_default, NULL},
    {"umount2Async", NULL, Umount2Async, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, Mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, Lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, Lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, Llistxattr, NULL, NULL, NULL, napi_default, NULL},
    {"chroot", NULL, Chroot, NULL, NULL, NULL, napi_default, NULL},
    {"spawnDetached", NULL, SpawnDetached, NULL, NULL, NULL, napi_default, NULL},
    {"reapChild", NULL, ReapChild, NULL, NULL, NULL, napi_default, NULL},
    {"removeTree", NULL, RemoveTree, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
