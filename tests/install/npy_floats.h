/* Reads the float32 data of a little-endian .npy file (version 1 or 2), for
 * the install test's two programs. Returns the number of floats read into
 * `out` (at most `capacity`), or -1 with a message on stderr. */
#ifndef EDGEGEN_INSTALL_TEST_NPY_FLOATS_H_
#define EDGEGEN_INSTALL_TEST_NPY_FLOATS_H_

#include <stdio.h>
#include <string.h>

static long npy_read_floats(const char* path, float* out, long capacity) {
  FILE* file = fopen(path, "rb");
  unsigned char magic[12];
  long header_bytes, count;
  if (file == NULL || fread(magic, 1, 10, file) != 10 || memcmp(magic, "\x93NUMPY", 6) != 0) {
    fprintf(stderr, "%s: not a .npy file\n", path);
    if (file) fclose(file);
    return -1;
  }
  header_bytes = magic[8] | (magic[9] << 8);
  if (magic[6] >= 2) { /* version 2: a 4-byte header length */
    if (fread(magic + 10, 1, 2, file) != 2) header_bytes = -1;
    else header_bytes |= ((long)magic[10] << 16) | ((long)magic[11] << 24);
  }
  if (header_bytes < 0 || fseek(file, header_bytes, SEEK_CUR) != 0) {
    fprintf(stderr, "%s: bad header\n", path);
    fclose(file);
    return -1;
  }
  count = (long)fread(out, sizeof(float), (size_t)capacity, file);
  fclose(file);
  return count;
}

#endif /* EDGEGEN_INSTALL_TEST_NPY_FLOATS_H_ */
