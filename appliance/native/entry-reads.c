// Batched, asynchronous reads of what the archive walker (appliance/client/archive/walker.ts)
// stores about directory entries beyond their lstat: open and fstat, readlink, inode flags,
// quota project id and xattrs; for directories also their listing (listing.h) and, where the
// walker allows it, what lies below them, within a bound per batch. A batch is one napi async
// work item run on libuv's thread pool, so the event loop never waits on these calls and pays
// one round trip per batch instead of several per entry. Every descriptor opened here is closed
// before the batch completes. appliance/native/entry-reads.ts types the results.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "async-work.h"
#include "fsops.h"
#include "listing.h"

// A bound on what one call copies and holds; the walker's batches are far smaller.
#define MAX_BATCH 1024
// Names a batch lists beyond its own entries (PLAN_LIST, PLAN_DESCEND), at most: what a batch
// holds stays bounded whatever the tree. A directory that does not fit is left to the walker.
#define MAX_PREFETCHED 512
// Levels below a batch's own entries that PLAN_DESCEND goes down, at most.
#define MAX_DESCENT 32
// pxar stores no longer xattr names (metadata.ts).
#define MAX_XATTR_NAME 255

#define ACL_ACCESS_XATTR "system.posix_acl_access"
#define ACL_DEFAULT_XATTR "system.posix_acl_default"
#define FCAPS_XATTR "security.capability"

// How an entry is read: a plan's low bits.
enum entry_kind {
  // the archive root: open(O_DIRECTORY) following symlinks; flags, xattrs, project id
  KIND_ROOT = 0,
  // open(O_DIRECTORY | O_NOFOLLOW ...); flags, xattrs, project id
  KIND_DIRECTORY = 1,
  // open(O_NOFOLLOW ...) and fstat; when still a regular file: flags, xattrs, project id
  KIND_FILE = 2,
  // readlink; xattrs
  KIND_SYMLINK = 3,
  // devices, FIFOs, sockets: xattrs
  KIND_OTHER = 4,
};
#define PLAN_KIND_MASK 0x7
// Also read the quota project id (directories and regular files only).
#define PLAN_PROJECT_ID 0x8
// A directory: also list it (listing.h), unless it is unreadable or its names do not fit.
#define PLAN_LIST 0x10
// A listed directory without the probe name: also read its children as the walker would, with
// the directory's project-id plan; directories among them on the same device are listed and
// descended into too. Mount points are left to the walker.
#define PLAN_DESCEND 0x20

// Which call made the entry unreadable (readEntries' failedPart).
enum failed_part { PART_NONE = 0, PART_OPEN = 1, PART_FSTAT = 2, PART_READLINK = 3 };

// readEntries' numbers, per entry; a part's state is 0 not read, 1 read, 2 failed.
enum entry_field {
  F_FAILED_PART,
  F_FAILED_ERRNO,
  F_IS_REGULAR,
  F_FLAGS_STATE,
  F_FLAGS,
  F_PROJECT_STATE,
  F_PROJECT_ID,
  F_XATTRS_STATE,
  ENTRY_FIELDS
};

struct xattr_read {
  char *name;
  size_t name_length;
  // NULL when reading it failed with err
  char *value;
  size_t value_length;
  int err;
};

struct entry_read {
  char *path;
  uint8_t plan;
  int failed_part;
  int failed_errno;
  int is_regular;
  // the descriptor the ioctls used: their error messages name it
  int fd;
  int flags_read, flags_errno;
  uint32_t flags;
  int project_read, project_errno;
  uint32_t project_id;
  int xattrs_read, list_errno;
  struct xattr_read *xattrs;
  size_t xattr_count;
  char *target;
  size_t target_length;
  // PLAN_LIST: NULL when not listed
  struct listing *listing;
  // PLAN_DESCEND: the children read, and their indexes in the listing
  struct entry_read *children;
  uint32_t *child_indexes;
  size_t child_count;
};

struct entries_batch {
  napi_async_work work;
  napi_deferred deferred;
  size_t count;
  struct entry_read *entries;
  char *probe;
  int out_of_memory;
};

// What the reads of one batch share: buffers for xattr lists and values (small ones on the
// stack, the largest only when needed: fresh pages per batch are costly), the probe, the names
// it may still list, and how deep below its entries it is.
struct read_context {
  char small_list[4096];
  // also a link's target, of at most PATH_MAX bytes
  char small_value[PATH_MAX];
  char *large_list;
  char *large_value;
  // the name whose presence in a directory stops its children from being read (PLAN_DESCEND)
  const char *probe;
  size_t budget;
  int depth;
};

// ---- on the thread pool: no napi calls here ----

// As the walker opens entries: never following symlinks, blocking on a FIFO or taking a tty.
static int open_entry(const char *path, int flags) {
  int base = flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int fd = open(path, base | O_NOATIME);
  // O_NOATIME is only allowed to the file's owner (or with CAP_FOWNER)
  if (fd < 0 && errno == EPERM) fd = open(path, base);
  return fd;
}

// Whether metadata.ts keeps the attribute: ACLs only where they apply, names pxar can store.
static int wanted_xattr(const char *name, size_t length, int kind) {
  int is_default = strcmp(name, ACL_DEFAULT_XATTR) == 0;
  if (is_default || strcmp(name, ACL_ACCESS_XATTR) == 0) {
    if (kind == KIND_SYMLINK) return 0;
    return !is_default || kind == KIND_ROOT || kind == KIND_DIRECTORY;
  }
  return strcmp(name, FCAPS_XATTR) == 0 || length <= MAX_XATTR_NAME;
}

// The context's buffer of `size` bytes, made on first use; NULL when out of memory.
static char *large_buffer(char **buffer, size_t size) {
  if (*buffer == NULL) *buffer = malloc(size);
  return *buffer;
}

// Lists the xattrs by path (not following a symlink) and reads the wanted values, as one call
// with the largest buffers would; 0 when out of memory.
static int read_xattrs(struct entry_read *entry, int kind, struct read_context *context) {
  entry->xattrs_read = 1;
  char *list = context->small_list;
  ssize_t size = llistxattr(entry->path, list, sizeof context->small_list);
  if (size < 0 && errno == ERANGE) {
    list = large_buffer(&context->large_list, XATTR_LIST_CAP);
    if (list == NULL) return 0;
    size = llistxattr(entry->path, list, XATTR_LIST_CAP);
  }
  if (size < 0) {
    entry->list_errno = errno;
    return 1;
  }
  size_t names = 0;
  for (ssize_t at = 0; at < size;) {
    size_t length = strnlen(list + at, (size_t)(size - at));
    if (length > 0) names++;
    at += (ssize_t)length + 1;
  }
  if (names == 0) return 1;
  entry->xattrs = calloc(names, sizeof *entry->xattrs);
  if (entry->xattrs == NULL) return 0;
  for (ssize_t at = 0; at < size;) {
    const char *listed = list + at;
    size_t length = strnlen(listed, (size_t)(size - at));
    at += (ssize_t)length + 1;
    if (length == 0) continue;
    char *name = malloc(length + 1);
    if (name == NULL) return 0;
    memcpy(name, listed, length);
    name[length] = '\0';
    if (!wanted_xattr(name, length, kind)) {
      free(name);
      continue;
    }
    struct xattr_read *xattr = &entry->xattrs[entry->xattr_count++];
    xattr->name = name;
    xattr->name_length = length;
    char *value = context->small_value;
    ssize_t got = lgetxattr(entry->path, name, value, sizeof context->small_value);
    if (got < 0 && errno == ERANGE) {
      value = large_buffer(&context->large_value, XATTR_VALUE_CAP);
      if (value == NULL) return 0;
      got = lgetxattr(entry->path, name, value, XATTR_VALUE_CAP);
    }
    if (got < 0) {
      xattr->err = errno;
      continue;
    }
    xattr->value = malloc(got > 0 ? (size_t)got : 1);
    if (xattr->value == NULL) return 0;
    memcpy(xattr->value, value, (size_t)got);
    xattr->value_length = (size_t)got;
  }
  return 1;
}

// Flags, xattrs and project id of an open directory or regular file, in the order metadata.ts
// reports their problems; 0 when out of memory.
static int read_open_entry(struct entry_read *entry, int fd, int kind, struct read_context *context) {
  int flags = 0;
  entry->fd = fd;
  entry->flags_read = 1;
  // the kernel reads and writes an int here whatever the ioctl number's declared type says
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) entry->flags_errno = errno;
  else entry->flags = (uint32_t)flags;
  if (!read_xattrs(entry, kind, context)) return 0;
  if (entry->plan & PLAN_PROJECT_ID) {
    struct fsxattr attributes;
    memset(&attributes, 0, sizeof attributes);
    entry->project_read = 1;
    if (ioctl(fd, FS_IOC_FSGETXATTR, &attributes) != 0) entry->project_errno = errno;
    else entry->project_id = attributes.fsx_projid;
  }
  return 1;
}

static int failed(struct entry_read *entry, int part, int err) {
  entry->failed_part = part;
  entry->failed_errno = err;
  return 1;
}

static int read_entry(struct entry_read *entry, struct read_context *context);

// The plan of a listed child of a directory on device `dev` being descended into; -1 when the
// walker reads it itself (a mount point, an unknown type).
static int child_plan(const struct stat *st, dev_t dev, uint8_t parent_plan) {
  int project_id = parent_plan & PLAN_PROJECT_ID;
  if (S_ISDIR(st->st_mode)) {
    return st->st_dev == dev ? KIND_DIRECTORY | PLAN_LIST | PLAN_DESCEND | project_id : -1;
  }
  if (S_ISREG(st->st_mode)) return KIND_FILE | project_id;
  if (S_ISLNK(st->st_mode)) return KIND_SYMLINK;
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode) ||
      S_ISSOCK(st->st_mode)) {
    return KIND_OTHER;
  }
  return -1;
}

// The children of a listed directory on device `dev`, read with the plans the walker would
// give them; 0 when out of memory.
static int read_children(struct entry_read *entry, dev_t dev, struct read_context *context) {
  const struct listing *listing = entry->listing;
  size_t path_length = strlen(entry->path);
  entry->children = calloc(listing->count > 0 ? listing->count : 1, sizeof *entry->children);
  entry->child_indexes = calloc(listing->count > 0 ? listing->count : 1, sizeof(uint32_t));
  if (entry->children == NULL || entry->child_indexes == NULL) return 0;
  context->depth++;
  int ok = 1;
  for (size_t i = 0; i < listing->count && ok; i++) {
    const struct listed_name *name = &listing->names[i];
    int plan = name->err == 0 ? child_plan(&name->stat, dev, entry->plan) : -1;
    if (plan < 0) continue;
    struct entry_read *child = &entry->children[entry->child_count];
    child->path = malloc(path_length + 1 + name->length + 1);
    if (child->path == NULL) {
      ok = 0;
      break;
    }
    memcpy(child->path, entry->path, path_length);
    child->path[path_length] = '/';
    memcpy(child->path + path_length + 1, name->name, name->length + 1);
    child->plan = (uint8_t)plan;
    entry->child_indexes[entry->child_count++] = (uint32_t)i;
    ok = read_entry(child, context);
  }
  context->depth--;
  return ok;
}

// Lists a directory read with PLAN_LIST, within the batch's budget, and reads its children as
// PLAN_DESCEND allows (`own` is the directory's fstat, NULL when not to); 0 when out of memory.
static int read_listing(struct entry_read *entry, const struct stat *own,
                        struct read_context *context) {
  struct listing *listing = calloc(1, sizeof *listing);
  if (listing == NULL) return 0;
  if (!listing_read(listing, entry->path, strlen(entry->path), context->probe, context->budget)) {
    listing_free(listing);
    return 0;
  }
  // one that cannot be read or does not fit is listed by the walker at its turn, as any other
  if (listing->err != 0 || listing->too_long) {
    listing_free(listing);
    return 1;
  }
  entry->listing = listing;
  context->budget -= listing->count;
  int descend = own != NULL && listing->probe.err == ENOENT && context->depth < MAX_DESCENT;
  return descend ? read_children(entry, own->st_dev, context) : 1;
}

static int read_descriptor_entry(struct entry_read *entry, int kind, struct read_context *context) {
  int fd = kind == KIND_ROOT ? open(entry->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
           : kind == KIND_DIRECTORY ? open_entry(entry->path, O_RDONLY | O_DIRECTORY)
                                    : open_entry(entry->path, O_RDONLY);
  if (fd < 0) return failed(entry, PART_OPEN, errno);
  if (kind == KIND_FILE) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      return failed(entry, PART_FSTAT, err);
    }
    entry->is_regular = S_ISREG(st.st_mode);
    if (!entry->is_regular) {
      close(fd);
      return 1;
    }
  }
  int ok = read_open_entry(entry, fd, kind, context);
  // its device: the one its children must be on to be descended into
  struct stat own;
  int descend = (entry->plan & PLAN_DESCEND) && fstat(fd, &own) == 0;
  close(fd);
  if (ok && kind == KIND_DIRECTORY && (entry->plan & PLAN_LIST)) {
    return read_listing(entry, descend ? &own : NULL, context);
  }
  return ok;
}

static int read_symlink(struct entry_read *entry, struct read_context *context) {
  // as libuv's readlink: at most PATH_MAX bytes, which Linux targets never reach
  ssize_t length = readlink(entry->path, context->small_value, PATH_MAX);
  if (length < 0) return failed(entry, PART_READLINK, errno);
  entry->target = malloc(length > 0 ? (size_t)length : 1);
  if (entry->target == NULL) return 0;
  memcpy(entry->target, context->small_value, (size_t)length);
  entry->target_length = (size_t)length;
  return read_xattrs(entry, KIND_SYMLINK, context);
}

// Everything the walker needs about one entry; 0 when out of memory.
static int read_entry(struct entry_read *entry, struct read_context *context) {
  int kind = entry->plan & PLAN_KIND_MASK;
  switch (kind) {
    case KIND_ROOT:
    case KIND_DIRECTORY:
    case KIND_FILE:
      return read_descriptor_entry(entry, kind, context);
    case KIND_SYMLINK:
      return read_symlink(entry, context);
    default:
      return read_xattrs(entry, kind, context);
  }
}

static void read_entries_execute(napi_env env, void *data) {
  (void)env;
  struct entries_batch *batch = data;
  struct read_context context;
  context.large_list = context.large_value = NULL;
  context.probe = batch->probe;
  context.budget = MAX_PREFETCHED;
  context.depth = 0;
  for (size_t i = 0; i < batch->count && !batch->out_of_memory; i++) {
    if (!read_entry(&batch->entries[i], &context)) batch->out_of_memory = 1;
  }
  free(context.large_list);
  free(context.large_value);
}

// ---- on the main thread ----

static void free_entry(struct entry_read *entry) {
  for (size_t x = 0; x < entry->xattr_count; x++) {
    free(entry->xattrs[x].name);
    free(entry->xattrs[x].value);
  }
  free(entry->xattrs);
  free(entry->target);
  free(entry->path);
  listing_free(entry->listing);
  for (size_t c = 0; c < entry->child_count; c++) free_entry(&entry->children[c]);
  free(entry->children);
  free(entry->child_indexes);
}

static void free_entries(struct entries_batch *batch) {
  for (size_t i = 0; i < batch->count; i++) free_entry(&batch->entries[i]);
  free(batch->entries);
  free(batch->probe);
  free(batch);
}

static napi_value buffer_of(napi_env env, const char *data, size_t length) {
  napi_value buffer;
  void *copy;
  napi_create_buffer_copy(env, length, data, &copy, &buffer);
  return buffer;
}

static napi_value fd_error(napi_env env, const char *syscall, int fd, int err) {
  char label[32];
  snprintf(label, sizeof label, "fd %d", fd);
  return fsops_errno_error(env, syscall, label, err);
}

// [name, value or Error, name, value or Error, ...] in listing order.
static napi_value xattrs_of(napi_env env, const struct entry_read *entry) {
  napi_value list;
  napi_create_array_with_length(env, entry->xattr_count * 2, &list);
  for (size_t x = 0; x < entry->xattr_count; x++) {
    const struct xattr_read *xattr = &entry->xattrs[x];
    napi_value value = xattr->value != NULL
                           ? buffer_of(env, xattr->value, xattr->value_length)
                           : fsops_errno_error(env, "lgetxattr", entry->path, xattr->err);
    napi_set_element(env, list, (uint32_t)(2 * x), buffer_of(env, xattr->name, xattr->name_length));
    napi_set_element(env, list, (uint32_t)(2 * x + 1), value);
  }
  return list;
}

static napi_value entries_result(napi_env env, const struct entry_read *entries, size_t count);

// { at: number[] (indexes in the listing), numbers, details } of a directory's children read.
static napi_value children_of(napi_env env, const struct entry_read *entry) {
  napi_value children, at, index;
  children = entries_result(env, entry->children, entry->child_count);
  napi_create_array_with_length(env, entry->child_count, &at);
  for (size_t c = 0; c < entry->child_count; c++) {
    napi_create_uint32(env, entry->child_indexes[c], &index);
    napi_set_element(env, at, (uint32_t)c, index);
  }
  napi_set_named_property(env, children, "at", at);
  return children;
}

// What does not fit in numbers (link target, xattrs, errors of the parts, a directory's listing
// and children); undefined if none.
static napi_value details_of(napi_env env, const struct entry_read *entry) {
  napi_value details;
  int any = entry->target != NULL || entry->xattr_count > 0 || entry->list_errno != 0 ||
            entry->flags_errno != 0 || entry->project_errno != 0 || entry->listing != NULL;
  if (!any) {
    napi_get_undefined(env, &details);
    return details;
  }
  napi_create_object(env, &details);
  if (entry->target != NULL) {
    napi_value target = buffer_of(env, entry->target, entry->target_length);
    napi_set_named_property(env, details, "target", target);
  }
  if (entry->xattr_count > 0) {
    napi_set_named_property(env, details, "xattrs", xattrs_of(env, entry));
  }
  if (entry->list_errno != 0) {
    napi_value error = fsops_errno_error(env, "llistxattr", entry->path, entry->list_errno);
    napi_set_named_property(env, details, "listError", error);
  }
  if (entry->flags_errno != 0) {
    napi_value error = fd_error(env, "ioctl(FS_IOC_GETFLAGS)", entry->fd, entry->flags_errno);
    napi_set_named_property(env, details, "flagsError", error);
  }
  if (entry->project_errno != 0) {
    napi_value error = fd_error(env, "ioctl(FS_IOC_FSGETXATTR)", entry->fd, entry->project_errno);
    napi_set_named_property(env, details, "projectIdError", error);
  }
  if (entry->listing != NULL) {
    napi_set_named_property(env, details, "listing", listing_result(env, entry->listing));
  }
  if (entry->children != NULL) {
    napi_set_named_property(env, details, "children", children_of(env, entry));
  }
  return details;
}

static double part_state(int read, int err) {
  return read ? (err != 0 ? 2 : 1) : 0;
}

// { numbers: Float64Array (ENTRY_FIELDS per entry), details: (object | undefined)[] }
static napi_value entries_result(napi_env env, const struct entry_read *entries, size_t count) {
  napi_value result, buffer, numbers, details;
  void *data;
  napi_create_arraybuffer(env, count * ENTRY_FIELDS * sizeof(double), &data, &buffer);
  napi_create_typedarray(env, napi_float64_array, count * ENTRY_FIELDS, buffer, 0, &numbers);
  napi_create_array_with_length(env, count, &details);
  for (size_t i = 0; i < count; i++) {
    const struct entry_read *entry = &entries[i];
    double *row = (double *)data + i * ENTRY_FIELDS;
    row[F_FAILED_PART] = entry->failed_part;
    row[F_FAILED_ERRNO] = entry->failed_errno;
    row[F_IS_REGULAR] = entry->is_regular;
    row[F_FLAGS_STATE] = part_state(entry->flags_read, entry->flags_errno);
    row[F_FLAGS] = entry->flags;
    row[F_PROJECT_STATE] = part_state(entry->project_read, entry->project_errno);
    row[F_PROJECT_ID] = entry->project_id;
    row[F_XATTRS_STATE] = part_state(entry->xattrs_read, entry->list_errno);
    napi_set_element(env, details, (uint32_t)i, details_of(env, entry));
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "numbers", numbers);
  napi_set_named_property(env, result, "details", details);
  return result;
}

static void read_entries_complete(napi_env env, napi_status status, void *data) {
  struct entries_batch *batch = data;
  if (status != napi_ok || batch->out_of_memory) {
    async_work_reject(env, batch->deferred, "readEntries", status);
  } else {
    napi_resolve_deferred(env, batch->deferred, entries_result(env, batch->entries, batch->count));
  }
  napi_delete_async_work(env, batch->work);
  free_entries(batch);
}

// paths[index], copied (see async_work_copy_path).
static char *copy_path_at(napi_env env, napi_value paths, uint32_t index) {
  napi_value element;
  size_t length;
  if (napi_get_element(env, paths, index, &element) != napi_ok) return NULL;
  return async_work_copy_path(env, element, &length);
}

// readEntries(paths, plans: Uint8Array, probe) -> Promise<{ numbers, details }>, one plan per
// path; probe is the name PLAN_DESCEND looks for.
static napi_value read_entries_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  uint32_t count = 0;
  bool is_array = false, is_typed = false;
  napi_typedarray_type type;
  size_t plan_count = 0, probe_length = 0;
  void *plans = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || count > MAX_BATCH ||
      napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &plan_count, &plans, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || plan_count != count) {
    return async_work_throw_argument(
        env, "readEntries expects (paths, Uint8Array plans of the same length, probe)");
  }
  struct entries_batch *batch = calloc(1, sizeof *batch);
  if (batch == NULL) return async_work_throw_no_memory(env, "readEntries");
  batch->entries = calloc(count > 0 ? count : 1, sizeof *batch->entries);
  batch->probe = async_work_copy_path(env, argv[2], &probe_length);
  if (batch->entries == NULL || batch->probe == NULL || probe_length >= LISTING_NAME_CAP ||
      strchr(batch->probe, '/') != NULL) {
    free_entries(batch);
    return async_work_throw_argument(env, "readEntries expects a probe name");
  }
  for (uint32_t i = 0; i < count; i++) {
    struct entry_read *entry = &batch->entries[i];
    entry->plan = ((const uint8_t *)plans)[i];
    entry->path = copy_path_at(env, argv[0], i);
    batch->count = i + 1;
    if (entry->path == NULL || (entry->plan & PLAN_KIND_MASK) > KIND_OTHER) {
      free_entries(batch);
      return async_work_throw_argument(env, "readEntries expects paths and plans it knows");
    }
  }
  return async_work_queue(env, "cairn:readEntries", read_entries_execute, read_entries_complete,
                          batch, &batch->work, &batch->deferred);
}

void entry_reads_init(napi_env env, napi_value exports) {
  fsops_export_function(env, exports, "readEntries", read_entries_js);
}
