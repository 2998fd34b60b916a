// listDirectory: a directory's listing (listing.h) for the archive walker, in one call on
// libuv's thread pool instead of a readdir, an lstat per entry and an open of `.pxarexclude`.
// appliance/native/directory-listing.ts types the result.
#include <stdlib.h>
#include <string.h>

#include "async-work.h"
#include "fsops.h"
#include "listing.h"

struct listing_call {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  size_t path_length;
  char *probe;
  struct listing *listing;
  int out_of_memory;
};

static void free_call(struct listing_call *call) {
  listing_free(call->listing);
  free(call->path);
  free(call->probe);
  free(call);
}

static void list_directory_execute(napi_env env, void *data) {
  (void)env;
  struct listing_call *call = data;
  call->listing = calloc(1, sizeof *call->listing);
  if (call->listing == NULL ||
      !listing_read(call->listing, call->path, call->path_length, call->probe, SIZE_MAX)) {
    call->out_of_memory = 1;
  }
}

static void list_directory_complete(napi_env env, napi_status status, void *data) {
  struct listing_call *call = data;
  if (status != napi_ok || call->out_of_memory) {
    async_work_reject(env, call->deferred, "listDirectory", status);
  } else {
    napi_resolve_deferred(env, call->deferred, listing_result(env, call->listing));
  }
  napi_delete_async_work(env, call->work);
  free_call(call);
}

// listDirectory(path, probe) -> Promise<{ errno, names, numbers, ids }>; probe is one name.
static napi_value list_directory_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  size_t probe_length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    return async_work_throw_argument(env, "listDirectory expects (path, probe)");
  }
  struct listing_call *call = calloc(1, sizeof *call);
  if (call == NULL) return async_work_throw_no_memory(env, "listDirectory");
  call->path = async_work_copy_path(env, argv[0], &call->path_length);
  call->probe = async_work_copy_path(env, argv[1], &probe_length);
  if (call->path == NULL || call->probe == NULL || probe_length >= LISTING_NAME_CAP ||
      strchr(call->probe, '/') != NULL) {
    free_call(call);
    return async_work_throw_argument(env, "listDirectory expects (path, probe)");
  }
  return async_work_queue(env, "cairn:listDirectory", list_directory_execute,
                          list_directory_complete, call, &call->work, &call->deferred);
}

void directory_listing_init(napi_env env, napi_value exports) {
  fsops_export_function(env, exports, "listDirectory", list_directory_js);
}
