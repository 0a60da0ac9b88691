{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["src/native/berth_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "berth-untar",
      "type": "executable",
      "sources": [
        "src/native/tools/untar.c",
        "src/native/tools/untar-entry.c",
        "src/native/tools/untar-input.c",
        "src/native/tools/untar-paths.c",
        "src/native/tools/untar-write.c",
        "src/native/tools/tool.c"
      ],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lz", "-lcrypto"]
    },
    {
      "target_name": "berth-pack",
      "type": "executable",
      "sources": ["src/native/tools/pack.c", "src/native/tools/pack-tar.c", "src/native/tools/tool.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "libraries": ["-lcrypto"]
    }
  ]
}
