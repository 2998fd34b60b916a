// What fsops.c shares with the other parts of the cairn_fsops addon.
#ifndef CAIRN_FSOPS_H
#define CAIRN_FSOPS_H

#include <node_api.h>
#include <stddef.h>

#define XATTR_NAME_CAP 256
#define XATTR_VALUE_CAP 65536
// llistxattr's largest answer (XATTR_LIST_MAX).
#define XATTR_LIST_CAP 65536

// An Error as fsops.c throws them: "syscall path: strerror" with errno (positive), syscall, path.
napi_value fsops_errno_error(napi_env env, const char *syscall, const char *path, int err);

// A path or name given as a string or as bytes (names need not be UTF-8), NUL-terminated into
// out; 0 when it is neither, is empty, holds a NUL or does not fit.
int fsops_get_cstring(napi_env env, napi_value value, char *out, size_t cap);

void fsops_export_function(napi_env env, napi_value exports, const char *name, napi_callback cb);

// Add the asynchronous calls of entry-reads.c (readEntries) and directory-listing.c
// (listDirectory) to the addon's exports.
void entry_reads_init(napi_env env, napi_value exports);
void directory_listing_init(napi_env env, napi_value exports);

#endif
