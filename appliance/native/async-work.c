// Helpers for the addon's promise-returning calls whose work runs on libuv's thread pool.
#include "async-work.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

napi_value async_work_queue(napi_env env, const char *name, napi_async_execute_callback execute,
                            napi_async_complete_callback complete, void *data,
                            napi_async_work *work, napi_deferred *deferred) {
  napi_value promise, resource_name;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, execute, complete, data, work);
  napi_queue_async_work(env, *work);
  return promise;
}

void async_work_reject(napi_env env, napi_deferred deferred, const char *name, napi_status status) {
  char text[96];
  napi_value code, message, error;
  snprintf(text, sizeof text, "%s %s", name,
           status == napi_cancelled ? "was cancelled" : "ran out of memory");
  napi_create_string_utf8(env, "CAIRN_E_FSOPS_ASYNC", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_reject_deferred(env, deferred, error);
}

napi_value async_work_throw_argument(napi_env env, const char *message) {
  napi_throw_type_error(env, "CAIRN_E_FSOPS_ARGUMENT", message);
  return NULL;
}

napi_value async_work_throw_no_memory(napi_env env, const char *name) {
  char text[96];
  snprintf(text, sizeof text, "%s ran out of memory", name);
  napi_throw_error(env, "CAIRN_E_FSOPS_ASYNC", text);
  return NULL;
}

char *async_work_copy_path(napi_env env, napi_value value, size_t *length) {
  napi_valuetype type;
  bool is_typed = false;
  char *copy;
  *length = 0;
  if (napi_typeof(env, value, &type) != napi_ok) return NULL;
  if (type == napi_string) {
    if (napi_get_value_string_utf8(env, value, NULL, 0, length) != napi_ok) return NULL;
    copy = malloc(*length + 1);
    if (copy == NULL) return NULL;
    napi_get_value_string_utf8(env, value, copy, *length + 1, length);
  } else {
    void *data = NULL;
    napi_typedarray_type kind;
    if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
    if (napi_get_typedarray_info(env, value, &kind, length, &data, NULL, NULL) != napi_ok ||
        kind != napi_uint8_array) {
      return NULL;
    }
    copy = malloc(*length + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, data, *length);
    copy[*length] = '\0';
  }
  // empty, or holding a NUL: no path the kernel could take
  if (*length == 0 || strlen(copy) != *length) {
    free(copy);
    return NULL;
  }
  return copy;
}
