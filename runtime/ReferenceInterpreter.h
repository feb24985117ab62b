// The reference interpreter of DSL graphs: naive, obviously correct loops for every layer, the oracle of every
// compiled model.
//
// DESIGN decision 3: every compiled program (CPU JIT, CUDA, AOT) is checked against this file on random inputs.
// Clarity beats speed here: each node is evaluated by its plain loop nest in runtime/ReferenceKernels.h (the same
// kernels runtime/ProgramInterpreter.h interprets seq programs with), over PyTorch's layouts. Arithmetic happens in
// T (float accumulates in float), so the float32 instantiation is an oracle for float32 programs and the float64
// one for gradient checks.
#pragma once

#include "dsl/Graph.h"
#include "runtime/HostArray.h"

#include <map>
#include <string>
#include <vector>

namespace seqjit {

/// The value of every node of `graph` for a batch `input` of shape (N, channels, length), index = node id.
/// Values carry the batch dimension first: (N, C, L) for sequence-shaped nodes, (N, F) for feature vectors.
///
/// Parameters are looked up by Graph::parameterName(node, spec) (PyTorch state_dict names and layouts: conv
/// weight [F, C, K], dense weight [U, In], batch-norm weight/bias/running_mean/running_var) and converted to T.
/// Semantics are PyTorch's: conv1d is cross-correlation ('same' padding puts the extra pad on the right), dropout
/// is the identity (inference), flatten is channel-major, batch_norm with attrs.training uses the batch
/// statistics (mean and biased variance over N, and L for 3-D inputs) but does NOT update the running statistics
/// here (the interpreter is a pure function of its arguments; the trainer owns state updates).
///
/// Throws seqjit::Error when the input shape differs from graph.inputNode() (saying expected vs found), when a
/// parameter is missing or has the wrong shape (naming it), or when the graph is malformed.
template <typename T>
std::vector<HostArray<T>> interpretAll(const Graph &graph, const std::map<std::string, HostArray<float>> &parameters,
                                       const HostArray<T> &input);

/// The value of graph.outputNode() for `input`; see interpretAll for the semantics and errors.
template <typename T>
HostArray<T> interpretForward(const Graph &graph, const std::map<std::string, HostArray<float>> &parameters,
                              const HostArray<T> &input);

extern template std::vector<HostArray<float>>
interpretAll<float>(const Graph &, const std::map<std::string, HostArray<float>> &, const HostArray<float> &);
extern template std::vector<HostArray<double>>
interpretAll<double>(const Graph &, const std::map<std::string, HostArray<float>> &, const HostArray<double> &);
extern template HostArray<float> interpretForward<float>(const Graph &, const std::map<std::string, HostArray<float>> &,
                                                         const HostArray<float> &);
extern template HostArray<double>
interpretForward<double>(const Graph &, const std::map<std::string, HostArray<float>> &, const HostArray<double> &);

} // namespace seqjit
