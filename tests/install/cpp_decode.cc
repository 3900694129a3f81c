// The C++ API of an installed edgegen: runs a decoder model's graph on the
// latent `edgegen sample --latents-out` wrote, with a Session on the
// reference kernels, and compares the output with the tool's item.
//
//   cpp_decode model.egm latent.npy item.npy
//
// Prints "cpp_decode: ok ..." and exits with 0 when every value is within
// 1e-4 of the tool's (the tool ran its default backend, XNNPACK).
#include <edgegen/mapped_file.h>
#include <edgegen/model.h>
#include <edgegen/session.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "npy_floats.h"

namespace {

int fail(const char* what, const edgegen::Status& status) {
  std::fprintf(stderr, "cpp_decode: %s: %s\n", what, status.message());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cpp_decode model.egm latent.npy item.npy\n");
    return 2;
  }
  edgegen::Result<edgegen::MappedFile> file = edgegen::MappedFile::open(argv[1]);
  if (!file.ok()) return fail("open", file.status());
  edgegen::Result<edgegen::Model> model = edgegen::Model::from_buffer(file->data(), file->size());
  if (!model.ok()) return fail("load", model.status());

  edgegen::SessionOptions options;
  options.backend = edgegen::Backend::kReference;
  edgegen::Session session;
  edgegen::Status status = session.prepare(*model, 0, options);
  if (!status.is_ok()) return fail("prepare", status);
  if (session.num_graphs() != 1 || session.num_inputs(0) != 1 || session.num_outputs(0) < 1) {
    std::fprintf(stderr, "cpp_decode: expected one graph with one input (a decoder)\n");
    return 1;
  }
  edgegen::Tensor& latent = session.input(0, 0);
  const edgegen::Tensor& item = session.output(0, 0);
  const long latent_floats = static_cast<long>(latent.num_elements());
  const long item_floats = static_cast<long>(item.num_elements());
  if (npy_read_floats(argv[2], latent.data_as<float>(), latent_floats) != latent_floats) {
    std::fprintf(stderr, "cpp_decode: %s does not hold %ld floats\n", argv[2], latent_floats);
    return 1;
  }
  status = session.run(0);
  if (!status.is_ok()) return fail("run", status);

  std::vector<float> expected(static_cast<size_t>(item_floats));
  if (npy_read_floats(argv[3], expected.data(), item_floats) != item_floats) {
    std::fprintf(stderr, "cpp_decode: %s does not hold %ld floats\n", argv[3], item_floats);
    return 1;
  }
  double max_difference = 0;
  for (long i = 0; i < item_floats; ++i) {
    const double difference = std::fabs(item.data_as<float>()[i] - expected[static_cast<size_t>(i)]);
    if (!(difference <= max_difference)) max_difference = difference;  // NaN propagates
  }
  if (!(max_difference <= 1e-4)) {
    std::fprintf(stderr, "cpp_decode: max |output - edgegen sample| = %g > 1e-4\n", max_difference);
    return 1;
  }
  std::printf("cpp_decode: ok, graph '%s' on the %s backend: %ld floats, max |output - edgegen sample| = %g\n",
              model->graph_name(0), edgegen::backend_name(session.backend()), item_floats, max_difference);
  return 0;
}
