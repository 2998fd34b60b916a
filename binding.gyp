{
  "targets": [
    {
      "target_name": "cairn_buzhash",
      "sources": ["appliance/native/buzhash.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    },
    {
      "target_name": "cairn_fsops",
      "sources": [
        "appliance/native/fsops.c",
        "appliance/native/async-work.c",
        "appliance/native/listing.c",
        "appliance/native/entry-reads.c",
        "appliance/native/directory-listing.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
