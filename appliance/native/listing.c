// A directory's listing as the archive walker reads it (see listing.h).
#define _GNU_SOURCE
#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Numbers and ids per name.
enum stat_field {
  S_ERRNO,
  S_MODE,
  S_NLINK,
  S_UID,
  S_GID,
  S_SIZE,
  S_MTIME_SECS,
  S_MTIME_NANOS,
};
enum stat_id { I_DEV, I_INO, I_RDEV };

static int add_name(struct listing *listing, const char *name) {
  if (listing->count == listing->capacity) {
    size_t capacity = listing->capacity > 0 ? 2 * listing->capacity : 16;
    struct listed_name *names = realloc(listing->names, capacity * sizeof *names);
    if (names == NULL) return 0;
    listing->names = names;
    listing->capacity = capacity;
  }
  struct listed_name *entry = &listing->names[listing->count];
  memset(entry, 0, sizeof *entry);
  entry->length = strlen(name);
  entry->name = malloc(entry->length + 1);
  if (entry->name == NULL) return 0;
  memcpy(entry->name, name, entry->length + 1);
  listing->count++;
  return 1;
}

static void drop_names(struct listing *listing) {
  for (size_t i = 0; i < listing->count; i++) free(listing->names[i].name);
  free(listing->names);
  listing->names = NULL;
  listing->count = listing->capacity = 0;
}

// Bytewise, as Buffer.compare and libuv's scandir order names.
static int by_name(const void *a, const void *b) {
  return strcmp(((const struct listed_name *)a)->name, ((const struct listed_name *)b)->name);
}

static int read_names(struct listing *listing, const char *path, size_t cap) {
  DIR *dir = opendir(path);
  if (dir == NULL) {
    listing->err = errno;
    return 1;
  }
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      listing->err = errno;
      break;
    }
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (listing->count == cap) {
      listing->too_long = 1;
      break;
    }
    if (!add_name(listing, name)) {
      closedir(dir);
      return 0;
    }
  }
  closedir(dir);
  if (listing->err != 0 || listing->too_long) drop_names(listing);
  else if (listing->count > 1) qsort(listing->names, listing->count, sizeof *listing->names, by_name);
  return 1;
}

// `child` is the path buffer: the directory's path and "/", with room for any name after it.
static void lstat_name(char *child, size_t at, struct listed_name *entry) {
  memcpy(child + at, entry->name, entry->length + 1);
  if (lstat(child, &entry->stat) != 0) entry->err = errno;
}

int listing_read(struct listing *listing, const char *path, size_t path_length, const char *probe,
                 size_t cap) {
  // checked by the callers: a name, shorter than LISTING_NAME_CAP
  listing->probe.length = strlen(probe);
  listing->probe.name = malloc(listing->probe.length + 1);
  if (listing->probe.name == NULL) return 0;
  memcpy(listing->probe.name, probe, listing->probe.length + 1);
  if (!read_names(listing, path, cap)) return 0;
  if (listing->err != 0 || listing->too_long) return 1;
  char *child = malloc(path_length + 1 + LISTING_NAME_CAP);
  if (child == NULL) return 0;
  memcpy(child, path, path_length);
  child[path_length] = '/';
  for (size_t i = 0; i < listing->count; i++) lstat_name(child, path_length + 1, &listing->names[i]);
  lstat_name(child, path_length + 1, &listing->probe);
  free(child);
  return 1;
}

static void put_stat(const struct listed_name *entry, double *row, uint64_t *id) {
  memset(row, 0, LISTING_STAT_FIELDS * sizeof(double));
  memset(id, 0, LISTING_STAT_IDS * sizeof(uint64_t));
  row[S_ERRNO] = entry->err;
  if (entry->err != 0) return;
  const struct stat *st = &entry->stat;
  row[S_MODE] = st->st_mode;
  row[S_NLINK] = (double)st->st_nlink;
  row[S_UID] = st->st_uid;
  row[S_GID] = st->st_gid;
  row[S_SIZE] = (double)st->st_size;
  row[S_MTIME_SECS] = (double)st->st_mtim.tv_sec;
  row[S_MTIME_NANOS] = (double)st->st_mtim.tv_nsec;
  id[I_DEV] = (uint64_t)st->st_dev;
  id[I_INO] = (uint64_t)st->st_ino;
  id[I_RDEV] = (uint64_t)st->st_rdev;
}

napi_value listing_result(napi_env env, const struct listing *listing) {
  napi_value result, number, names, end_buffer, ends, number_buffer, numbers, id_buffer, ids;
  void *name_data, *end_data, *number_data, *id_data;
  napi_create_object(env, &result);
  napi_create_int32(env, listing->err, &number);
  napi_set_named_property(env, result, "errno", number);
  if (listing->err != 0) return result;
  size_t rows = listing->count + 1;
  size_t name_bytes = 0;
  for (size_t i = 0; i < listing->count; i++) name_bytes += listing->names[i].length;
  // one buffer for all names: one backing store for the collector to track, not one per name
  napi_create_buffer(env, name_bytes, &name_data, &names);
  napi_create_arraybuffer(env, listing->count * sizeof(uint32_t), &end_data, &end_buffer);
  napi_create_typedarray(env, napi_uint32_array, listing->count, end_buffer, 0, &ends);
  napi_create_arraybuffer(env, rows * LISTING_STAT_FIELDS * sizeof(double), &number_data,
                          &number_buffer);
  napi_create_typedarray(env, napi_float64_array, rows * LISTING_STAT_FIELDS, number_buffer, 0,
                         &numbers);
  napi_create_arraybuffer(env, rows * LISTING_STAT_IDS * sizeof(uint64_t), &id_data, &id_buffer);
  napi_create_typedarray(env, napi_biguint64_array, rows * LISTING_STAT_IDS, id_buffer, 0, &ids);
  size_t at = 0;
  for (size_t i = 0; i < rows; i++) {
    const struct listed_name *entry = i < listing->count ? &listing->names[i] : &listing->probe;
    put_stat(entry, (double *)number_data + i * LISTING_STAT_FIELDS,
             (uint64_t *)id_data + i * LISTING_STAT_IDS);
    if (i == listing->count) break;
    memcpy((char *)name_data + at, entry->name, entry->length);
    at += entry->length;
    ((uint32_t *)end_data)[i] = (uint32_t)at;
  }
  napi_set_named_property(env, result, "names", names);
  napi_set_named_property(env, result, "ends", ends);
  napi_set_named_property(env, result, "numbers", numbers);
  napi_set_named_property(env, result, "ids", ids);
  return result;
}

void listing_free(struct listing *listing) {
  if (listing == NULL) return;
  drop_names(listing);
  free(listing->probe.name);
  free(listing);
}
