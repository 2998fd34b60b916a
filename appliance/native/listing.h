// A directory's listing as the archive walker reads it: its names but "." and "..", sorted
// bytewise (as Node's readdir returns them), each with its lstat (path + "/" + name), and the
// lstat of one more name, the probe, whether listed or not (the walker's `.pxarexclude`).
#ifndef CAIRN_LISTING_H
#define CAIRN_LISTING_H

#include <node_api.h>
#include <stddef.h>
#include <sys/stat.h>

struct listed_name {
  char *name;
  size_t length;
  // of its lstat
  int err;
  struct stat stat;
};

struct listing {
  // opendir or readdir failed: there are no names
  int err;
  // more names than the cap listing_read was given: none are kept
  int too_long;
  struct listed_name *names;
  size_t count, capacity;
  struct listed_name probe;
};

// On the thread pool: lists `path` (of `path_length` bytes) into a zeroed listing, keeping at
// most `cap` names; 0 when out of memory.
int listing_read(struct listing *listing, const char *path, size_t path_length, const char *probe,
                 size_t cap);

// On the main thread: { errno, names: Buffer, ends: Uint32Array, numbers: Float64Array,
// ids: BigUint64Array }: the names one after the other, where each ends, and LISTING_STAT_FIELDS
// numbers and LISTING_STAT_IDS ids per name, then once more for the probe.
napi_value listing_result(napi_env env, const struct listing *listing);

void listing_free(struct listing *listing);

#define LISTING_STAT_FIELDS 8
#define LISTING_STAT_IDS 3
// The longest name a directory entry has (NAME_MAX), with its NUL; probes must fit too.
#define LISTING_NAME_CAP 256

#endif
