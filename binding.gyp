{
  "targets": [
    {
      "target_name": "cairn_buzhash",
      "sources": ["appliance/native/buzhash.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    }
  ]
}
