// Buzhash boundary search for the PBS chunker (see appliance/format/chunker.ts for the rules).
// Exposes setTable(Uint32Array) and findBoundary(data, from, to, mask, threshold) through Node-API.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WINDOW 64
// Positions each lane covers per round: about 1/64 of the range, so that finishing the earlier
// lanes after a hit stays cheap whatever the chunk size (measured best from 64 KiB to 4 MiB avg).
#define MIN_LANE_SPAN 2048
#define MAX_LANE_SPAN 16384

static uint32_t table[256];

static inline uint32_t rotl1(uint32_t h) { return (h << 1) | (h >> 31); }

static inline int is_boundary(uint32_t h, uint32_t mask, uint32_t threshold) {
  return __builtin_expect((h & mask) >= threshold, 0);
}

// Hash of the 64 bytes data[end-64, end): once the window is full it depends on nothing else.
static inline uint32_t window_hash(const uint8_t *data, size_t end) {
  uint32_t h = 0;
  for (const uint8_t *p = data + end - WINDOW; p < data + end; p++) h = rotl1(h) ^ table[*p];
  return h;
}

// Rolls the window one byte on: the byte 64 back leaves (rotation by 64 is none), *enter arrives.
#define ROLL(h, enter) ((h) = rotl1(h) ^ table[(enter)[-WINDOW]] ^ table[(enter)[0]])

// First end in [from, to] whose window is a boundary, else -1; one dependency chain.
static int64_t find_serial(const uint8_t *data, size_t from, size_t to, uint32_t mask,
                           uint32_t threshold) {
  if (from > to) return -1;
  uint32_t h = window_hash(data, from);
  if (is_boundary(h, mask, threshold)) return (int64_t)from;
  for (size_t end = from + 1; end <= to; end++) {
    ROLL(h, data + end - 1);
    if (is_boundary(h, mask, threshold)) return (int64_t)end;
  }
  return -1;
}

// Same result as find_serial: four independent chains over consecutive spans run interleaved, so
// the CPU overlaps their rotate-xor latencies; a hit in lane k still needs lanes < k finished.
static int64_t find_boundary(const uint8_t *data, size_t from, size_t to, uint32_t mask,
                             uint32_t threshold) {
  const size_t wanted = (to - from) / 64;
  const size_t span = wanted < MIN_LANE_SPAN   ? MIN_LANE_SPAN
                      : wanted > MAX_LANE_SPAN ? MAX_LANE_SPAN
                                               : wanted;
  size_t base = from;
  while (to >= base && to - base + 1 >= 4 * span) {
    uint32_t h0 = window_hash(data, base), h1 = window_hash(data, base + span);
    uint32_t h2 = window_hash(data, base + 2 * span), h3 = window_hash(data, base + 3 * span);
    const uint8_t *p0 = data + base - 1, *p1 = p0 + span, *p2 = p1 + span, *p3 = p2 + span;
    size_t i = 0;
    int lane = -1;
    if (is_boundary(h0, mask, threshold)) return (int64_t)base;
    if (is_boundary(h1, mask, threshold)) lane = 1;
    else if (is_boundary(h2, mask, threshold)) lane = 2;
    else if (is_boundary(h3, mask, threshold)) lane = 3;
    if (lane < 0) {
      for (i = 1; i < span; i++) {
        ROLL(h0, p0 + i);
        ROLL(h1, p1 + i);
        ROLL(h2, p2 + i);
        ROLL(h3, p3 + i);
        if (is_boundary(h0, mask, threshold)) return (int64_t)(base + i);
        if (is_boundary(h1, mask, threshold)) { lane = 1; break; }
        if (is_boundary(h2, mask, threshold)) { lane = 2; break; }
        if (is_boundary(h3, mask, threshold)) { lane = 3; break; }
      }
    }
    if (lane >= 0) {
      for (int l = 0; l < lane; l++) {
        size_t start = base + (size_t)l * span;
        int64_t found = find_serial(data, start + i + 1, start + span - 1, mask, threshold);
        if (found >= 0) return found;
      }
      return (int64_t)(base + (size_t)lane * span + i);
    }
    base += 4 * span;
  }
  return find_serial(data, base, to, mask, threshold);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_range_error(env, "CAIRN_E_BUZHASH_ARGUMENT", message);
  return NULL;
}

static napi_value make_number(napi_env env, int64_t value) {
  napi_value result = NULL;
  napi_create_int64(env, value, &result);
  return result;
}

static int get_bytes(napi_env env, napi_value value, napi_typedarray_type want, void **data,
                     size_t *length) {
  napi_typedarray_type type;
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static napi_value set_table(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      !get_bytes(env, argv[0], napi_uint32_array, &data, &length) || length != 256) {
    return throw_error(env, "setTable expects a Uint32Array of 256 values");
  }
  memcpy(table, data, sizeof table);
  return NULL;
}

static napi_value find_boundary_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void *data;
  size_t length;
  int64_t from, to;
  uint32_t mask, threshold;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 ||
      !get_bytes(env, argv[0], napi_uint8_array, &data, &length) ||
      napi_get_value_int64(env, argv[1], &from) != napi_ok ||
      napi_get_value_int64(env, argv[2], &to) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &mask) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &threshold) != napi_ok) {
    return throw_error(env, "findBoundary expects (Uint8Array, from, to, mask, threshold)");
  }
  if (to < from) return make_number(env, -1);
  if (from < WINDOW || (uint64_t)to > length) {
    return throw_error(env, "findBoundary range must lie within the data, after one window");
  }
  return make_number(env, find_boundary(data, (size_t)from, (size_t)to, mask, threshold));
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "setTable", NAPI_AUTO_LENGTH, set_table, NULL, &fn);
  napi_set_named_property(env, exports, "setTable", fn);
  napi_create_function(env, "findBoundary", NAPI_AUTO_LENGTH, find_boundary_js, NULL, &fn);
  napi_set_named_property(env, exports, "findBoundary", fn);
  return exports;
}
