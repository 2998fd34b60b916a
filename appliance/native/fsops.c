// File-system calls Node lacks, for archiving and restoring trees: extended attributes without
// following symlinks, nanosecond utimensat, mknod, and the inode-flag / project-id ioctls.
// Each is a thin wrapper: arguments are checked, the call made once, and a failure thrown as an
// Error carrying `errno` (positive), `syscall` and `path`; appliance/native/fsops.ts types them.
// The asynchronous calls the archive walker uses live in entry-reads.c and directory-listing.c.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fsops.h"

static napi_value throw_argument(napi_env env, const char *message) {
  napi_throw_type_error(env, "CAIRN_E_FSOPS_ARGUMENT", message);
  return NULL;
}

napi_value fsops_errno_error(napi_env env, const char *syscall, const char *path, int err) {
  char message[PATH_MAX + 160];
  napi_value text, error, value;
  snprintf(message, sizeof message, "%s %s: %s", syscall, path, strerror(err));
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &error);
  napi_create_int32(env, err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  return error;
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path, int err) {
  napi_throw(env, fsops_errno_error(env, syscall, path, err));
  return NULL;
}

int fsops_get_cstring(napi_env env, napi_value value, char *out, size_t cap) {
  napi_valuetype type;
  bool is_typed = false;
  size_t length = 0;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_string) {
    if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return 0;
    if (length == 0 || length >= cap) return 0;
    if (napi_get_value_string_utf8(env, value, out, cap, &length) != napi_ok) return 0;
  } else {
    void *data = NULL;
    napi_typedarray_type kind;
    if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
    if (napi_get_typedarray_info(env, value, &kind, &length, &data, NULL, NULL) != napi_ok ||
        kind != napi_uint8_array || length == 0 || length >= cap) {
      return 0;
    }
    memcpy(out, data, length);
    out[length] = '\0';
  }
  return strlen(out) == length;
}

static int get_bytes(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type kind;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &kind, length, data, NULL, NULL) != napi_ok) return 0;
  return kind == napi_uint8_array;
}

static int get_int64(napi_env env, napi_value value, int64_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) return 0;
  return napi_get_value_int64(env, value, out) == napi_ok;
}

static napi_value copy_to_buffer(napi_env env, const void *data, size_t length) {
  napi_value buffer;
  void *copy;
  napi_create_buffer_copy(env, length, data, &copy, &buffer);
  return buffer;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
}

// llistxattr(path) -> Buffer[] of names, in the order the file system lists them.
static napi_value llistxattr_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char path[PATH_MAX];
  if (!get_args(env, info, 1, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path)) {
    return throw_argument(env, "llistxattr expects (path)");
  }
  char *list = malloc(XATTR_LIST_CAP);
  if (list == NULL) return throw_errno(env, "llistxattr", path, ENOMEM);
  ssize_t size = llistxattr(path, list, XATTR_LIST_CAP);
  if (size < 0) {
    int err = errno;
    free(list);
    return throw_errno(env, "llistxattr", path, err);
  }
  napi_create_array(env, &result);
  uint32_t index = 0;
  for (ssize_t at = 0; at < size;) {
    size_t length = strnlen(list + at, (size_t)(size - at));
    if (length > 0) napi_set_element(env, result, index++, copy_to_buffer(env, list + at, length));
    at += (ssize_t)length + 1;
  }
  free(list);
  return result;
}

// lgetxattr(path, name) -> Buffer with the value.
static napi_value lgetxattr_js(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  char path[PATH_MAX], name[XATTR_NAME_CAP];
  if (!get_args(env, info, 2, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path) ||
      !fsops_get_cstring(env, argv[1], name, sizeof name)) {
    return throw_argument(env, "lgetxattr expects (path, name)");
  }
  char *value = malloc(XATTR_VALUE_CAP);
  if (value == NULL) return throw_errno(env, "lgetxattr", path, ENOMEM);
  ssize_t size = lgetxattr(path, name, value, XATTR_VALUE_CAP);
  if (size < 0) {
    int err = errno;
    free(value);
    return throw_errno(env, "lgetxattr", path, err);
  }
  result = copy_to_buffer(env, value, (size_t)size);
  free(value);
  return result;
}

// lsetxattr(path, name, value, flags): flags 0, XATTR_CREATE or XATTR_REPLACE.
static napi_value lsetxattr_js(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char path[PATH_MAX], name[XATTR_NAME_CAP];
  void *value;
  size_t length;
  int64_t flags;
  if (!get_args(env, info, 4, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path) ||
      !fsops_get_cstring(env, argv[1], name, sizeof name) ||
      !get_bytes(env, argv[2], &value, &length) || !get_int64(env, argv[3], &flags)) {
    return throw_argument(env, "lsetxattr expects (path, name, Uint8Array, flags)");
  }
  if (lsetxattr(path, name, value, length, (int)flags) != 0) {
    return throw_errno(env, "lsetxattr", path, errno);
  }
  return NULL;
}

static napi_value lremovexattr_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[PATH_MAX], name[XATTR_NAME_CAP];
  if (!get_args(env, info, 2, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path) ||
      !fsops_get_cstring(env, argv[1], name, sizeof name)) {
    return throw_argument(env, "lremovexattr expects (path, name)");
  }
  if (lremovexattr(path, name) != 0) return throw_errno(env, "lremovexattr", path, errno);
  return NULL;
}

// utimensat(path, atimeSecs, atimeNanos, mtimeSecs, mtimeNanos, noFollow): nanos may be
// UTIME_OMIT or UTIME_NOW.
static napi_value utimensat_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  char path[PATH_MAX];
  int64_t atime_secs, atime_nanos, mtime_secs, mtime_nanos;
  bool no_follow;
  if (!get_args(env, info, 6, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path) ||
      !get_int64(env, argv[1], &atime_secs) || !get_int64(env, argv[2], &atime_nanos) ||
      !get_int64(env, argv[3], &mtime_secs) || !get_int64(env, argv[4], &mtime_nanos) ||
      napi_get_value_bool(env, argv[5], &no_follow) != napi_ok) {
    return throw_argument(env, "utimensat expects (path, aSecs, aNanos, mSecs, mNanos, noFollow)");
  }
  struct timespec times[2] = {{.tv_sec = atime_secs, .tv_nsec = atime_nanos},
                              {.tv_sec = mtime_secs, .tv_nsec = mtime_nanos}};
  if (utimensat(AT_FDCWD, path, times, no_follow ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
    return throw_errno(env, "utimensat", path, errno);
  }
  return NULL;
}

// mknod(path, mode, major, minor): mode carries the type (S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK).
static napi_value mknod_js(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  char path[PATH_MAX];
  int64_t mode, major_number, minor_number;
  if (!get_args(env, info, 4, argv) || !fsops_get_cstring(env, argv[0], path, sizeof path) ||
      !get_int64(env, argv[1], &mode) || !get_int64(env, argv[2], &major_number) ||
      !get_int64(env, argv[3], &minor_number) || mode < 0 || mode > 0xffffffffLL ||
      major_number < 0 || major_number > 0xffffffffLL || minor_number < 0 ||
      minor_number > 0xffffffffLL) {
    return throw_argument(env, "mknod expects (path, mode, major, minor)");
  }
  dev_t device = makedev((unsigned int)major_number, (unsigned int)minor_number);
  if (mknod(path, (mode_t)mode, device) != 0) return throw_errno(env, "mknod", path, errno);
  return NULL;
}

static int get_fd(napi_env env, napi_value value, int *fd) {
  int64_t number;
  if (!get_int64(env, value, &number) || number < 0 || number > INT_MAX) return 0;
  *fd = (int)number;
  return 1;
}

static const char *fd_label(int fd, char *out, size_t cap) {
  snprintf(out, cap, "fd %d", fd);
  return out;
}

// getFlags(fd) -> the inode flags (chattr) of an open file or directory.
static napi_value get_flags_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char label[32];
  int fd, flags = 0;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) {
    return throw_argument(env, "getFlags expects (fd)");
  }
  // the kernel reads and writes an int here whatever the ioctl number's declared type says
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) {
    return throw_errno(env, "ioctl(FS_IOC_GETFLAGS)", fd_label(fd, label, sizeof label), errno);
  }
  napi_create_uint32(env, (uint32_t)flags, &result);
  return result;
}

static napi_value set_flags_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char label[32];
  int fd;
  int64_t value;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_int64(env, argv[1], &value) || value < 0 || value > 0xffffffffLL) {
    return throw_argument(env, "setFlags expects (fd, flags)");
  }
  int flags = (int)(uint32_t)value;
  if (ioctl(fd, FS_IOC_SETFLAGS, &flags) != 0) {
    return throw_errno(env, "ioctl(FS_IOC_SETFLAGS)", fd_label(fd, label, sizeof label), errno);
  }
  return NULL;
}

// getProjectId(fd) -> the quota project id of an open file or directory.
static napi_value get_project_id_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  char label[32];
  int fd;
  struct fsxattr attributes;
  if (!get_args(env, info, 1, argv) || !get_fd(env, argv[0], &fd)) {
    return throw_argument(env, "getProjectId expects (fd)");
  }
  memset(&attributes, 0, sizeof attributes);
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attributes) != 0) {
    return throw_errno(env, "ioctl(FS_IOC_FSGETXATTR)", fd_label(fd, label, sizeof label), errno);
  }
  napi_create_uint32(env, attributes.fsx_projid, &result);
  return result;
}

static napi_value set_project_id_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char label[32];
  int fd;
  int64_t value;
  struct fsxattr attributes;
  if (!get_args(env, info, 2, argv) || !get_fd(env, argv[0], &fd) ||
      !get_int64(env, argv[1], &value) || value < 0 || value > 0xffffffffLL) {
    return throw_argument(env, "setProjectId expects (fd, projectId)");
  }
  memset(&attributes, 0, sizeof attributes);
  if (ioctl(fd, FS_IOC_FSGETXATTR, &attributes) != 0) {
    return throw_errno(env, "ioctl(FS_IOC_FSGETXATTR)", fd_label(fd, label, sizeof label), errno);
  }
  attributes.fsx_projid = (uint32_t)value;
  if (ioctl(fd, FS_IOC_FSSETXATTR, &attributes) != 0) {
    return throw_errno(env, "ioctl(FS_IOC_FSSETXATTR)", fd_label(fd, label, sizeof label), errno);
  }
  return NULL;
}

void fsops_export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static void export_number(napi_env env, napi_value target, const char *name, int64_t value) {
  napi_value number;
  napi_create_int64(env, value, &number);
  napi_set_named_property(env, target, name, number);
}

NAPI_MODULE_INIT() {
  napi_value constants;
  fsops_export_function(env, exports, "llistxattr", llistxattr_js);
  fsops_export_function(env, exports, "lgetxattr", lgetxattr_js);
  fsops_export_function(env, exports, "lsetxattr", lsetxattr_js);
  fsops_export_function(env, exports, "lremovexattr", lremovexattr_js);
  fsops_export_function(env, exports, "utimensat", utimensat_js);
  fsops_export_function(env, exports, "mknod", mknod_js);
  fsops_export_function(env, exports, "getFlags", get_flags_js);
  fsops_export_function(env, exports, "setFlags", set_flags_js);
  fsops_export_function(env, exports, "getProjectId", get_project_id_js);
  fsops_export_function(env, exports, "setProjectId", set_project_id_js);
  napi_create_object(env, &constants);
  export_number(env, constants, "UTIME_NOW", UTIME_NOW);
  export_number(env, constants, "UTIME_OMIT", UTIME_OMIT);
  export_number(env, constants, "XATTR_CREATE", XATTR_CREATE);
  export_number(env, constants, "XATTR_REPLACE", XATTR_REPLACE);
  napi_set_named_property(env, exports, "constants", constants);
  entry_reads_init(env, exports);
  directory_listing_init(env, exports);
  return exports;
}
