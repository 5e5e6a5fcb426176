#pragma once
// numpy's .npy arrays (format versions 1.0, 2.0 and 3.0) and .npz archives of
// them (some SAE releases ship a params.npz). The header dict is parsed
// strictly: exactly 'descr', 'fortran_order' and 'shape'. Read: little- and
// big-endian floats (f2, f4, f8), signed and unsigned integers and bools;
// unsigned integers wider than a byte come back widened (u2 -> int32, u4 and
// u8 -> int64, a u8 value above INT64_MAX refused), big-endian data swapped,
// Fortran-order data returned in C order. Refused with an InputError naming
// the file and the member: object arrays (pickled Python objects, never
// unpickled here), structured, string, complex and datetime dtypes, a data
// length other than prod(shape) * itemsize, and any other header.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace saescope::io {

// One .npy file's bytes; `where` names it in errors ("params.npz: W_enc.npy").
// The tensor is a fresh, contiguous CPU tensor owning a copy of the data.
at::Tensor parse_npy(const std::string& bytes, const std::string& where);

// Every `<key>.npy` member of an .npz, as (key, tensor) in archive order. A
// member that is not a .npy array is refused.
std::vector<std::pair<std::string, at::Tensor>> read_npz(const std::string& path);

}  // namespace saescope::io
