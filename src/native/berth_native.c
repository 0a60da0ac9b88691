/*
 * The few Linux syscalls Node cannot make: mount (also from another working directory), umount2,
 * mknod, lsetxattr, lgetxattr, llistxattr, chroot.
 * The xattr functions take a path as a string or as a Buffer of raw bytes (see get_path).
 * Every function but umount2Async is synchronous and throws an Error shaped like Node's fs errors
 * (err.code = 'EPERM', err.errno = -1, err.syscall = 'mount', err.path = target), so callers
 * handle them with the same errnoCode() checks as any fs failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
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

/*
 * umount2(target, flags) on libuv's thread pool, resolving a promise: unmounting an overlay syncs
 * its upper filesystem, which must not stall the event loop.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
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
  if (job->err == 0) napi_resolve_deferred(env, job->deferred, undefined(env));
  else napi_reject_deferred(env, job->deferred, errno_error(env, job->err, "umount2", job->target));
  napi_delete_async_work(env, job->work);
  free(job->target);
  free(job);
}

static napi_value Umount2Async(napi_env env, napi_callback_info info) {
  napi_value argv[2], promise, name;
  char *target = NULL;
  uint32_t flags;
  if (!(get_args(env, info, 2, argv) && get_string(env, argv, 0, 0, &target) && get_uint32(env, argv, 1, &flags))) {
    free(target);
    return undefined(env);
  }
  UmountJob *job = calloc(1, sizeof *job);
  job->target = target;
  job->flags = (int)flags;
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "berth:umount2", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, umount_execute, umount_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
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
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
