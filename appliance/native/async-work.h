// Helpers for the addon's promise-returning calls whose work runs on libuv's thread pool
// (entry-reads.c, directory-listing.c).
#ifndef CAIRN_ASYNC_WORK_H
#define CAIRN_ASYNC_WORK_H

#include <node_api.h>
#include <stddef.h>

// Creates a promise and queues execute (thread pool) then complete (main thread) for `data`.
napi_value async_work_queue(napi_env env, const char *name, napi_async_execute_callback execute,
                            napi_async_complete_callback complete, void *data,
                            napi_async_work *work, napi_deferred *deferred);

// Rejects a call's promise whose work ran out of memory or was cancelled (environment shutdown).
void async_work_reject(napi_env env, napi_deferred deferred, const char *name, napi_status status);

// Throws, for a call that could not even start.
napi_value async_work_throw_argument(napi_env env, const char *message);
napi_value async_work_throw_no_memory(napi_env env, const char *name);

// A path (string or bytes, of any length, without NUL) copied into a fresh NUL-terminated
// string; NULL when it is no path (or memory ran out). *length gets its length.
char *async_work_copy_path(napi_env env, napi_value value, size_t *length);

#endif
