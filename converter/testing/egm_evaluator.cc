#include "converter/testing/egm_evaluator.h"

#include <cstring>
#include <stdexcept>

#include "edgegen/model.h"
#include "edgegen/session.h"
#include "testing/model_builder.h"

namespace edgegen::converter::testing {
namespace {

void check(const Status& status) {
  if (!status.is_ok()) throw std::runtime_error(status.message());
}

}  // namespace

// The runtime itself runs the file: converter tests then prove what a device
// would compute, with the runtime's verification and memory plan check.
std::vector<HostTensor> run_egm_graph(const std::vector<uint8_t>& file, size_t graph_index,
                                      const std::vector<HostTensor>& inputs) {
  edgegen::testing::AlignedBytes bytes(file);
  Result<Model> model = Model::from_buffer(bytes.data(), bytes.size());
  check(model.status());
  Session session;
  check(session.prepare(*model));
  if (graph_index >= session.num_graphs()) throw std::runtime_error("no such graph");
  if (inputs.size() != session.num_inputs(graph_index)) throw std::runtime_error("wrong number of inputs");
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& tensor = session.input(graph_index, k);
    std::vector<int64_t> shape(tensor.shape.dims, tensor.shape.dims + tensor.shape.rank);
    if (inputs[k].dtype != tensor.dtype || inputs[k].shape != shape || inputs[k].data.size() != tensor.bytes())
      throw std::runtime_error(std::string("input '") + tensor.name + "' has the wrong dtype or shape");
    if (!inputs[k].data.empty()) std::memcpy(tensor.data, inputs[k].data.data(), inputs[k].data.size());
  }
  check(session.run(graph_index));
  std::vector<HostTensor> outputs;
  for (size_t k = 0; k < session.num_outputs(graph_index); ++k) {
    const Tensor& tensor = session.output(graph_index, k);
    HostTensor host;
    host.name = tensor.name;
    host.dtype = tensor.dtype;
    host.shape.assign(tensor.shape.dims, tensor.shape.dims + tensor.shape.rank);
    const uint8_t* data = static_cast<const uint8_t*>(tensor.data);
    host.data.assign(data, data + tensor.bytes());
    outputs.push_back(std::move(host));
  }
  return outputs;
}

}  // namespace edgegen::converter::testing
