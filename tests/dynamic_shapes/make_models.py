"""Models with symbolic dimensions, exported by PyTorch as other people's
models are: dynamic axes, and shape arithmetic in the graph (Shape, Gather,
Concat, Reshape, Range, ConstantOfShape, Expand). The test fixes their
shapes with --input-shape / --dim and compares with PyTorch's outputs.
Run with /usr/bin/python3 (Debian's torch); commits the .onnx files, inputs
and PyTorch's outputs, so the test needs no torch.
"""
import numpy as np
import torch

torch.manual_seed(5)


class SequenceMixer(torch.nn.Module):
    """[batch, seq, 8] -> [batch, seq, 6]: heads split and merged through the
    runtime shape, a position ramp from arange(seq), zeros of a computed
    shape, and a mean over the sequence expanded back to it."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 8)
        self.out = torch.nn.Linear(8, 6)

    def forward(self, x):
        b, s, d = x.shape
        h = self.proj(x).view(b, s, 2, d // 2).transpose(1, 2)  # [b, 2, s, 4]
        h = h.softmax(dim=-1).transpose(1, 2).reshape(b, s, d)
        ramp = torch.arange(s, dtype=torch.float32).unsqueeze(-1) / s  # [s, 1]
        zeros = torch.zeros(x.shape[0], x.shape[1], d)
        mean = h.mean(dim=1, keepdim=True).expand(b, s, d)
        return self.out(h + ramp + zeros + mean)


def export(model, x, path, input_name, dynamic_axes):
    model.eval()
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, (x,), path, input_names=[input_name], output_names=["y"],
                      dynamic_axes={input_name: dynamic_axes, "y": dynamic_axes}, opset_version=13)
    return y.numpy()


x = torch.randn(3, 5, 8)
model = SequenceMixer()
# A name with ':' and '/', as TensorFlow-converted models have.
y = export(model, x, "sequence_mixer.onnx", "serving/input:0", {0: "batch", 1: "seq"})
np.save("sequence_mixer_input.npy", x.numpy())
np.save("sequence_mixer_output.npy", y)
print("sequence_mixer", tuple(x.shape), "->", y.shape)


class NoInputs(torch.nn.Module):
    """A generator with its noise built in: no graph inputs at all (a fixed
    latent as a constant, decoded by two layers)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("z", torch.randn(2, 4))
        self.decode = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))

    def forward(self):
        return self.decode(self.z)


model = NoInputs().eval()
with torch.no_grad():
    y = model()
# Constant folding would reduce the whole graph to one constant; keep the layers.
torch.onnx.export(model, (), "no_inputs.onnx", output_names=["y"], opset_version=13, do_constant_folding=False)
np.save("no_inputs_output.npy", y.numpy())
print("no_inputs ->", y.shape)


class ShapeBranch(torch.nn.Module):
    """An If on the input's width (scripted, as control flow exports): known
    once the width is fixed, so the converter keeps only the branch taken."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(6, 6)

    def forward(self, x):
        if x.shape[1] > 4:
            y = self.lin(x) * 2.0
        else:
            y = x - 1.0
        return torch.relu(y)


class DataBranch(torch.nn.Module):
    """An If on the data: decided at run time (both branches kept, tests/control_flow/)."""

    def forward(self, x):
        if bool(x.sum() > 0):
            y = x * 2.0
        else:
            y = x - 1.0
        return y


branch = torch.jit.script(ShapeBranch().eval())
x6, x3 = torch.randn(2, 6), torch.randn(2, 3)
torch.onnx.export(branch, (x6,), "shape_branch.onnx", input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "batch", 1: "width"}, "y": {0: "batch", 1: "width"}}, opset_version=13)
with torch.no_grad():
    for name, x in (("6", x6), ("3", x3)):
        np.save(f"shape_branch_input{name}.npy", x.numpy())
        np.save(f"shape_branch_output{name}.npy", branch(x).numpy())
torch.onnx.export(torch.jit.script(DataBranch()), (x6,), "data_branch.onnx", input_names=["x"], output_names=["y"],
                  opset_version=13)
print("shape_branch, data_branch")
