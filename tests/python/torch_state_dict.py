# PyTorch side of ParametersTest: write a torch state_dict as .npz, or load our .npz into torch and check it.
"""Usage: torch_state_dict.py write FILE | check FILE

Model (names as seqjit's DSL gives them): conv1d_0 = Conv1d(4, 8, 5), batch_norm_0 = BatchNorm1d(8),
dense_0 = Linear(8 * 46, 3).
write: every tensor t of the state_dict gets t.flatten()[i] = i * 0.001 + k, k the key's index in sorted order,
       num_batches_tracked included (int64 scalar), saved with numpy.savez.
check: load_state_dict(strict=False) must report only num_batches_tracked missing and nothing unexpected, and
       every tensor must equal i * 0.01 - k (k as above, over the keys of FILE); then a forward pass must run.
"""
import sys

import numpy as np
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1d_0 = torch.nn.Conv1d(4, 8, 5)
        self.batch_norm_0 = torch.nn.BatchNorm1d(8)
        self.dense_0 = torch.nn.Linear(8 * 46, 3)

    def forward(self, x):
        x = torch.relu(self.batch_norm_0(self.conv1d_0(x)))
        return self.dense_0(x.flatten(1))


mode, path = sys.argv[1], sys.argv[2]
net = Net()
if mode == "write":
    state = {}
    for k, (name, tensor) in enumerate(sorted(net.state_dict().items())):
        if name.endswith("num_batches_tracked"):
            state[name] = np.array(7, dtype=np.int64)
            continue
        values = np.arange(tensor.numel(), dtype=np.float64) * 0.001 + k
        state[name] = values.astype(np.float32).reshape(tuple(tensor.shape))
    np.savez(path, **state)
    print("ok")
    sys.exit(0)

with np.load(path) as npz:
    arrays = {name: npz[name] for name in npz.files}
result = net.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=False)
failures = []
if result.unexpected_keys:
    failures.append("unexpected keys: %s" % result.unexpected_keys)
if any(not key.endswith("num_batches_tracked") for key in result.missing_keys):
    failures.append("missing keys: %s" % result.missing_keys)
state = net.state_dict()
for k, name in enumerate(sorted(arrays)):
    if arrays[name].dtype != np.float32:
        failures.append("%s: dtype %s" % (name, arrays[name].dtype))
    expected = (np.arange(state[name].numel()) * 0.01 - k).astype(np.float32).reshape(tuple(state[name].shape))
    if not np.array_equal(state[name].numpy(), expected):
        failures.append("%s: values differ" % name)
net.eval()
output = net(torch.zeros(2, 4, 50))
if tuple(output.shape) != (2, 3):
    failures.append("forward output shape %s" % (tuple(output.shape),))
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok")
