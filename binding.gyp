{
  "targets": [
    {
      "target_name": "cairn_buzhash",
      "sources": ["appliance/native/buzhash.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    },
    {
      "target_name": "cairn_fsops",
      "sources": ["appliance/native/fsops.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
