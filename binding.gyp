{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["src/native/berth_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
